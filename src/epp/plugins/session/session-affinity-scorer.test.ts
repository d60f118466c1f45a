/** session-affinity-scorer: llm-d's two strategies (an echoed token, server-side session_id bindings) and profileName. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../../framework/cycle-state.js';
import type { SchedulingContext } from '../../framework/plugin.js';
import { Scheduler } from '../../framework/scheduler.js';
import { NOW, context, endpoint, request } from '../../framework/test-fixtures.js';
import { loadEndpointPickerConfig } from '../../config/load-endpoint-picker-config.js';
import { registerBuiltins } from '../register-builtins.js';
import { SessionAffinityScorer } from './session-affinity-scorer.js';
import { parseSessionToken, sessionToken } from './session-token.js';

const a = endpoint('10.0.0.1').pod('vllm-a', 'prod').build();
const a2 = endpoint('10.0.0.1').port(8001).pod('vllm-a', 'prod').build();
const b = endpoint('10.0.0.2').pod('vllm-b', 'prod').build();
const c = endpoint('10.0.0.3').pod('vllm-c', 'prod').build();
const b64 = (s: string) => Buffer.from(s).toString('base64');
const create = (params: Record<string, unknown>, warnings: string[] = []) =>
  registerBuiltins().create('session-affinity-scorer', 's', params, { warn: (w) => warnings.push(w) }) as SessionAffinityScorer;
const at = (headers: Record<string, string>, now = NOW): SchedulingContext => ({ ...context(request({ headers })), now, state: new CycleState() });

describe('session-affinity-scorer, encoded_endpoint_header', () => {
  const cases: { name: string; headers: Record<string, string>; want: number[] }[] = [
    { name: 'our token pins the endpoint, port included', headers: { 'x-session-token': sessionToken(a2) }, want: [0, 1, 0] },
    { name: "llm-d's token (namespace/pod) matches every port of the pod", headers: { 'x-session-token': b64('prod/vllm-a') }, want: [1, 1, 0] },
    { name: 'another namespace does not match', headers: { 'x-session-token': b64('dev/vllm-a') }, want: [0, 0, 0] },
    { name: 'no token: all 0', headers: {}, want: [0, 0, 0] },
    { name: 'garbage token: ignored', headers: { 'x-session-token': '%%%' }, want: [0, 0, 0] },
    { name: 'a pod that is gone: all 0', headers: { 'x-session-token': b64('prod/vllm-z') }, want: [0, 0, 0] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const scores = new SessionAffinityScorer().score(context(request({ headers: c.headers })), [a, a2, b]);
      assert.deepEqual(Array.from(scores), c.want);
    });
  }

  test('the response carries the served endpoint token, which round-trips; no PreRequest hook', () => {
    const s = new SessionAffinityScorer();
    const headers: Record<string, string> = {};
    s.responseHeaders!(context(), b, (n, v) => (headers[n] = v));
    assert.deepEqual(Object.keys(headers), ['x-session-token']);
    assert.equal(Buffer.from(headers['x-session-token'] ?? '', 'base64').toString(), 'prod/vllm-b:8000');
    assert.deepEqual(parseSessionToken(headers['x-session-token']), { namespace: 'prod', pod: 'vllm-b', port: 8000 });
    assert.equal(s.preRequest, undefined);
  });

  test("current llm-d's parameters: strategy and encodedEndpointHeaderConfig.header", () => {
    const warnings: string[] = [];
    const s = create({ strategy: 'encoded_endpoint_header', encodedEndpointHeaderConfig: { header: 'x-sticky' }, sessionIdConfig: { evictionTtlSeconds: 5 } }, warnings);
    assert.deepEqual(Array.from(s.score(context(request({ headers: { 'x-sticky': sessionToken(b) } })), [a, b])), [0, 1]);
    assert.deepEqual(warnings, ['plugin "s" (session-affinity-scorer): parameters.sessionIdConfig is ignored: strategy is encoded_endpoint_header']);
    assert.throws(() => create({ encodedEndpointHeaderConfig: { header: 'a b' } }), /parameters\.encodedEndpointHeaderConfig\.header: must be an HTTP header name/);
    assert.throws(() => create({ encodedEndpointHeaderConfig: { headr: 'x' } }), /parameters\.encodedEndpointHeaderConfig\.headr: unknown parameter \(did you mean header\?\)/);
    assert.throws(() => create({ strategy: 'sticky' }), /parameters\.strategy: must be one of encoded_endpoint_header, session_id, got "sticky"/);
  });

  test('headerName renames both headers; algorithm is the older name of strategy', () => {
    const s = create({ headerName: 'X-Sticky' });
    assert.deepEqual(Array.from(s.score(context(request({ headers: { 'x-sticky': sessionToken(b) } })), [a, b])), [0, 1]);
    assert.equal(create({ algorithm: 'session_id' }).strategy.name, 'session_id');
    assert.throws(() => create({ algorithm: 'session_id_header' }), /parameters\.algorithm: must be one of encoded_endpoint_header, session_id/);
  });
});

describe('session-affinity-scorer, session_id', () => {
  const scores = (s: SessionAffinityScorer, ctx: SchedulingContext, eps = [a, b, c]) => Array.from(s.score(ctx, eps));

  test('an unbound session has no preference; the pick binds it; the next request of the session prefers that endpoint', () => {
    const s = create({ strategy: 'session_id' });
    assert.equal(s.responseHeaders, undefined, 'nothing is written back to the client');
    const first = at({ 'x-session-id': 'chat-1' });
    assert.deepEqual(scores(s, first), [0, 0, 0]);
    s.preRequest!(first, b);
    assert.deepEqual(scores(s, at({ 'x-session-id': 'chat-1' })), [0, 1, 0]);
    assert.deepEqual(scores(s, at({ 'x-session-id': 'chat-2' })), [0, 0, 0], 'another session is not bound');
    assert.deepEqual(scores(s, at({})), [0, 0, 0], 'no session id');
    assert.equal(s.scoreNotes(at({ 'x-session-id': 'chat-1' })).basis, 'session "chat-1" is bound to 10.0.0.2:8000');
    assert.equal(s.scoreNotes(at({})).basis, 'no session id (header x-session-id)');
  });

  test('a session moves only when its endpoint was not a candidate, not when other scorers outweighed it', () => {
    const s = create({ strategy: 'session_id' });
    s.preRequest!(at({ 'x-session-id': 's' }), b);
    const outweighed = at({ 'x-session-id': 's' });
    assert.deepEqual(scores(s, outweighed), [0, 1, 0]);
    s.preRequest!(outweighed, c);
    assert.deepEqual(scores(s, at({ 'x-session-id': 's' })), [0, 1, 0], 'the binding stays on b');
    const gone = at({ 'x-session-id': 's' });
    assert.deepEqual(scores(s, gone, [a, c]), [0, 0], 'b is not a candidate: no preference');
    s.preRequest!(gone, c);
    assert.deepEqual(scores(s, at({ 'x-session-id': 's' })), [0, 0, 1], 'moved to c');
  });

  test('evictionTtlSeconds drops a binding unused that long; a use refreshes it', () => {
    const s = create({ strategy: 'session_id', sessionIdConfig: { evictionTtlSeconds: 60, evictionSweepSeconds: 1 } });
    s.preRequest!(at({ 'x-session-id': 's' }), a);
    s.preRequest!(at({ 'x-session-id': 's' }, NOW + 50_000), a);
    assert.deepEqual(scores(s, at({ 'x-session-id': 's' }, NOW + 100_000)), [1, 0, 0], 'refreshed at +50 s');
    assert.deepEqual(scores(s, at({ 'x-session-id': 's' }, NOW + 110_000)), [0, 0, 0], 'unused for 60 s');
  });

  test('maxSessions keeps the most recently used bindings', () => {
    const s = create({ strategy: 'session_id', sessionIdConfig: { maxSessions: 2 } });
    s.preRequest!(at({ 'x-session-id': 'one' }), a);
    s.preRequest!(at({ 'x-session-id': 'two' }), b);
    s.preRequest!(at({ 'x-session-id': 'one' }, NOW + 1), a);
    s.preRequest!(at({ 'x-session-id': 'three' }, NOW + 2), c);
    assert.deepEqual(scores(s, at({ 'x-session-id': 'two' }, NOW + 3)), [0, 0, 0], 'the least recently used went');
    assert.deepEqual(scores(s, at({ 'x-session-id': 'one' }, NOW + 3)), [1, 0, 0]);
    assert.deepEqual(scores(s, at({ 'x-session-id': 'three' }, NOW + 3)), [0, 0, 1]);
  });

  test('sources are tried in order; the first non-empty one names the session', () => {
    const s = create({ strategy: 'session_id', sessionIdConfig: { sources: [{ header: 'X-Conversation' }, { header: 'x-user' }] } });
    s.preRequest!(at({ 'x-conversation': 'conv-9', 'x-user': 'u' }), c);
    assert.deepEqual(scores(s, at({ 'x-conversation': 'conv-9' })), [0, 0, 1]);
    assert.deepEqual(scores(s, at({ 'x-conversation': '  ', 'x-user': 'u' })), [0, 0, 0], 'a blank header falls through to x-user, not bound');
    assert.deepEqual(scores(s, at({ 'x-session-id': 'conv-9' })), [0, 0, 0], 'the default header is not read when sources are set');
  });

  test('parameter errors name the field', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ sources: [{ header: 'x-a', attribute: 'b' }] }, /parameters\.sessionIdConfig\.sources\[0\]: exactly one of header or attribute must be set/],
      [{ sources: [{}] }, /parameters\.sessionIdConfig\.sources\[0\]: exactly one of header or attribute must be set/],
      [{ sources: [{ heder: 'x' }] }, /parameters\.sessionIdConfig\.sources\[0\]\.heder: unknown field/],
      [{ sources: [{ header: 'x-a', producer: 'p' }] }, /sources\[0\]\.producer: names the plugin publishing an attribute; a header source has none/],
      [{ sources: 'x-session-id' }, /parameters\.sessionIdConfig\.sources: must be a list/],
      [{ evictionTtlSeconds: 0 }, /parameters\.sessionIdConfig\.evictionTtlSeconds: must be above 0, got 0/],
      [{ evictionSweepSeconds: -1 }, /parameters\.sessionIdConfig\.evictionSweepSeconds: must be above 0/],
      [{ evictionTTLSeconds: 5 }, /parameters\.sessionIdConfig\.evictionTTLSeconds: unknown parameter \(did you mean evictionTtlSeconds\?\)/],
    ];
    for (const [sessionIdConfig, want] of cases) assert.throws(() => create({ strategy: 'session_id', sessionIdConfig }), want);
    const warnings: string[] = [];
    create({ strategy: 'session_id', encodedEndpointHeaderConfig: { header: 'x-t' } }, warnings);
    assert.deepEqual(warnings, ['plugin "s" (session-affinity-scorer): parameters.encodedEndpointHeaderConfig is ignored: strategy is session_id']);
  });
});

describe('session ids from request attributes: session-id-producer and agent-identity', () => {
  const config = (sources: string, extra = '') => `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
${extra}- type: session-affinity-scorer
  parameters:
    strategy: session_id
    sessionIdConfig:
      sources: ${sources}
- type: queue-scorer
schedulingProfiles:
- name: default
  plugins: [{pluginRef: session-affinity-scorer, weight: 100}, {pluginRef: queue-scorer}]
`;
  const load = (text: string) => loadEndpointPickerConfig(text, { file: 's.yaml', registry: registerBuiltins(), implicitServedModelFilter: false });
  const fleet = [a, b, c];
  const run = (scheduler: Scheduler, headers: Record<string, string>) => {
    const ctx = at(headers);
    void scheduler.produce(ctx, fleet);
    return scheduler.schedule(ctx, fleet).endpoint!.address;
  };

  test('a cookie through session-id-producer pins the session', () => {
    const loaded = load(config('[{attribute: SessionIDDataKey, producer: session-id-producer}]', '- type: session-id-producer\n  parameters: {cookieName: llm-d-session}\n'));
    assert.deepEqual(loaded.warnings, []);
    const scheduler = new Scheduler(loaded.schedulerConfig);
    const first = run(scheduler, { cookie: 'theme=dark; llm-d-session=abc123' });
    for (let i = 0; i < 5; i++) assert.equal(run(scheduler, { cookie: 'llm-d-session=abc123' }), first);
  });

  test("agent-identity's header (Claude Code, OpenCode, Codex, or an added one) names the session", () => {
    const loaded = load(config('[{header: x-session-id}, {attribute: agent-identity}]', '- type: agent-identity\n  parameters: {additionalSessionHeaders: [x-my-agent]}\n'));
    const scheduler = new Scheduler(loaded.schedulerConfig);
    for (const h of ['x-claude-code-session-id', 'x-session-affinity', 'session-id', 'session_id', 'x-my-agent']) {
      const first = run(scheduler, { [h]: `agent-${h}` });
      for (let i = 0; i < 3; i++) assert.equal(run(scheduler, { [h]: `agent-${h}` }), first, h);
    }
  });

  test('a source naming no plugin, and a profileName naming no profile, load with a warning', () => {
    const loaded = load(config('[{attribute: SessionIDDataKey, producer: session-id-producr}]').replace('strategy: session_id', 'strategy: session_id\n    profileName: prefil'));
    assert.deepEqual(loaded.warnings, [
      's.yaml: plugins[0] (session-affinity-scorer): profileName "prefil" names no scheduling profile of this config (default): the plugin never records or writes a session',
      's.yaml: plugins[0] (session-affinity-scorer): sessionIdConfig.sources[0].producer "session-id-producr" names no plugin of this config: that source never yields a session id',
    ]);
  });

  test('session-id-producer and agent-identity parameters', () => {
    const create = (type: string, p: Record<string, unknown>) => registerBuiltins().create(type, type, p);
    assert.throws(() => create('session-id-producer', {}), /parameters\.headerName: exactly one of headerName or cookieName must be set/);
    assert.throws(() => create('session-id-producer', { headerName: 'x-a', cookieName: 'c' }), /exactly one of headerName or cookieName must be set/);
    assert.throws(() => create('agent-identity', { additionalSessionHeaders: ['ok', 'not ok'] }), /parameters\.additionalSessionHeaders\[1\]: must be an HTTP header name/);
  });
});

describe('session-affinity-scorer under P/D: profileName', () => {
  const ROLE = 'llm-d.ai/role';
  const fleet = [
    endpoint('10.2.0.1').pod('decode-1', 'prod').labels({ [ROLE]: 'decode' }).metrics().build(),
    endpoint('10.2.0.2').pod('decode-2', 'prod').labels({ [ROLE]: 'decode' }).metrics().build(),
    endpoint('10.2.0.3').pod('prefill-1', 'prod').labels({ [ROLE]: 'prefill' }).metrics().build(),
    endpoint('10.2.0.4').pod('prefill-2', 'prod').labels({ [ROLE]: 'prefill' }).metrics().build(),
  ];
  // llm-d's README: one instance per profile, the prefill one with profileName and its own header. Both listed in decode here,
  // so only profileName can make the second one write the prefill pick.
  const CONFIG = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: prefill-filter
- type: decode-filter
- type: queue-scorer
- name: session-affinity-decode
  type: session-affinity-scorer
  parameters: {encodedEndpointHeaderConfig: {header: x-session-token}}
- name: session-affinity-prefill
  type: session-affinity-scorer
  parameters: {profileName: prefill, encodedEndpointHeaderConfig: {header: x-session-token-prefill}}
- type: always-disagg-pd-decider
- type: disagg-profile-handler
  parameters: {deciders: {prefill: always-disagg-pd-decider}}
schedulingProfiles:
- name: prefill
  plugins: [{pluginRef: prefill-filter}, {pluginRef: queue-scorer}]
- name: decode
  plugins: [{pluginRef: decode-filter}, {pluginRef: queue-scorer}, {pluginRef: session-affinity-decode}, {pluginRef: session-affinity-prefill}]
`;

  test('the prefill instance writes the prefill pick, the decode instance the decode pick', () => {
    const loaded = loadEndpointPickerConfig(CONFIG, { file: 'pd.yaml', registry: registerBuiltins(), implicitServedModelFilter: false });
    const scheduler = new Scheduler(loaded.schedulerConfig);
    const ctx = at({});
    const result = scheduler.schedule(ctx, fleet);
    const headers: Record<string, string> = {};
    scheduler.responseHeaders(ctx, result, result.endpoint!, (n, v) => (headers[n] = v));
    const prefill = result.results.get('prefill')!.endpoint!;
    assert.equal(prefill.pod.meta.name.startsWith('prefill-'), true);
    assert.deepEqual(headers, { 'x-session-token': sessionToken(result.endpoint!), 'x-session-token-prefill': sessionToken(prefill) });
  });
});
