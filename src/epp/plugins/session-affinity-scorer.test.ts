/** session-affinity-scorer: the endpoint a base64 session token names scores 1; responses carry the token. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { context, endpoint, request } from '../framework/test-fixtures.js';
import { registerBuiltins } from './register-builtins.js';
import { SessionAffinityScorer, parseSessionToken, sessionToken } from './session-affinity-scorer.js';

const a = endpoint('10.0.0.1').pod('vllm-a', 'prod').build();
const a2 = endpoint('10.0.0.1').port(8001).pod('vllm-a', 'prod').build();
const b = endpoint('10.0.0.2').pod('vllm-b', 'prod').build();
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('session-affinity-scorer', () => {
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

  test('the response carries the served endpoint token, which round-trips', () => {
    const headers: Record<string, string> = {};
    new SessionAffinityScorer().responseHeaders(context(), b, (n, v) => (headers[n] = v));
    assert.deepEqual(Object.keys(headers), ['x-session-token']);
    assert.equal(Buffer.from(headers['x-session-token'] ?? '', 'base64').toString(), 'prod/vllm-b:8000');
    assert.deepEqual(parseSessionToken(headers['x-session-token']), { namespace: 'prod', pod: 'vllm-b', port: 8000 });
  });

  test("current llm-d's parameters: strategy and encodedEndpointHeaderConfig.header; profileName ignored", () => {
    const warnings: string[] = [];
    const params = { strategy: 'encoded_endpoint_header', encodedEndpointHeaderConfig: { header: 'x-sticky' }, profileName: 'decode' };
    const s = registerBuiltins().create('session-affinity-scorer', 's', params, { warn: (w) => warnings.push(w) }) as SessionAffinityScorer;
    assert.deepEqual(Array.from(s.score(context(request({ headers: { 'x-sticky': sessionToken(b) } })), [a, b])), [0, 1]);
    assert.deepEqual(warnings, ['plugin "s" (session-affinity-scorer): parameters.profileName is ignored: the token names the endpoint that served the client (the decode pod under P/D)']);
    assert.throws(() => registerBuiltins().create('session-affinity-scorer', 's', { strategy: 'session_id' }), /parameters\.strategy: session_id is not supported: llm-d's server-side session_id binding is not implemented/);
    assert.throws(() => registerBuiltins().create('session-affinity-scorer', 's', { encodedEndpointHeaderConfig: { header: 'a b' } }), /parameters\.encodedEndpointHeaderConfig\.header: must be an HTTP header name/);
    assert.throws(() => registerBuiltins().create('session-affinity-scorer', 's', { encodedEndpointHeaderConfig: { headr: 'x' } }), /parameters\.encodedEndpointHeaderConfig\.headr: unknown parameter \(did you mean header\?\)/);
  });

  test('headerName renames both headers; other algorithms are refused', () => {
    const s = registerBuiltins().create('session-affinity-scorer', 's', { headerName: 'X-Sticky' }) as SessionAffinityScorer;
    assert.deepEqual(Array.from(s.score(context(request({ headers: { 'x-sticky': sessionToken(b) } })), [a, b])), [0, 1]);
    assert.throws(() => registerBuiltins().create('session-affinity-scorer', 's', { algorithm: 'session_id_header' }), /parameters\.algorithm: must be one of encoded_endpoint_header/);
  });
});
