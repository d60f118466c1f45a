/**
 * llm-d's server-side session affinity end to end through `serve`: the openai client sends a session id (or a
 * coding agent's session header), the gateway keeps the binding, no pod address goes back to the client, and a
 * session whose pod dies moves once and stays on its new pod.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig } from '../helpers/fleet.js';
import { eppConfigMapYaml } from '../../src/config/manifests.js';

const MODEL = 'model/s';
const SERVED = 'x-gateway-destination-endpoint-served';

const CONFIG = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: agent-identity
- type: session-affinity-filter
  parameters:
    strategy: session_id
    sessionIdConfig:
      sources: [{header: x-session-id}, {attribute: agent-identity}]
- type: queue-scorer
schedulingProfiles:
- name: default
  plugins: [{pluginRef: session-affinity-filter}, {pluginRef: queue-scorer}]
`;

test('session_id affinity: a session stays on its pod, nothing is echoed, and a dead pod moves the session once', async () => {
  const names = ['s-0', 's-1', 's-2'];
  const fleet = await startFleet(194, names.map((name) => ({ name, labels: {}, model: MODEL, ttftMs: 0, itlMs: 1 })));
  const pool = poolYaml('sticky', { m: 's' }, fleet.port).replace('metadata:\n  name: sticky', 'metadata:\n  name: sticky\n  annotations: {infergate.io/endpoint-picker-config: sessions}');
  const cfg = await tempConfig({
    'all.yaml': [...names.map((n) => podYaml(n, fleet.ipOf(n), { m: 's' })), pool, baseModelRouteYaml('s', MODEL, [['sticky', 1]]), eppConfigMapYaml('sessions', CONFIG)].join('---\n'),
  });
  const gw = await startTestGateway(cfg.dir);
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const ask = async (headers: Record<string, string>, i: number) => {
      const r = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: `turn ${i}` }], max_tokens: 2 }, { headers }).withResponse();
      assert.equal(r.response.headers.get('x-session-token'), null, 'session_id writes nothing back');
      return r.response.headers.get(SERVED)!;
    };
    const sessions: Record<string, string> = {};
    for (const [id, headers] of [
      ['conv-1', { 'x-session-id': 'conv-1' }],
      ['conv-2', { 'x-session-id': 'conv-2' }],
      ['claude', { 'x-claude-code-session-id': '5b2c7d4e-claude' }],
      ['codex', { 'session-id': 'codex-session-9' }],
    ] as const) {
      const first = await ask(headers, 0);
      // Interleaved with unpinned traffic, so the queue scorer alone would move them.
      for (let i = 1; i <= 6; i++) {
        await Promise.all([ask({}, i), ask({}, i)]);
        assert.equal(await ask(headers, i), first, `${id} turn ${i}`);
      }
      sessions[id] = first;
    }

    // The pod of conv-1 dies: the next turn fails over to another pod, and the session stays there.
    const dead = sessions['conv-1']!;
    await fleet.byAddress(dead)!.close();
    const moved = await ask({ 'x-session-id': 'conv-1' }, 7);
    assert.notEqual(moved, dead);
    for (let i = 8; i < 12; i++) assert.equal(await ask({ 'x-session-id': 'conv-1' }, i), moved);
  } finally {
    await gw.close();
    await fleet.close();
    await cfg.remove();
  }
});

test('a session token under a configured header name is readable by a page that CORS allows', async () => {
  const fleet = await startFleet(195, [{ name: 't-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 1 }]);
  const sticky = CONFIG.replace(/plugins:\n- type: agent-identity[\s\S]*?- type: queue-scorer/, 'plugins:\n- type: session-affinity-scorer\n  parameters: {encodedEndpointHeaderConfig: {header: x-sticky}}\n- type: queue-scorer').replace('session-affinity-filter}', 'session-affinity-scorer}');
  const pool = poolYaml('sticky', { m: 's' }, fleet.port).replace('metadata:\n  name: sticky', 'metadata:\n  name: sticky\n  annotations: {infergate.io/endpoint-picker-config: sessions}');
  const cfg = await tempConfig({
    'all.yaml': [podYaml('t-0', fleet.ipOf('t-0'), { m: 's' }), pool, baseModelRouteYaml('s', MODEL, [['sticky', 1]]), eppConfigMapYaml('sessions', sticky)].join('---\n'),
  });
  const origin = 'https://app.example.com';
  const gw = await startTestGateway(cfg.dir, { cors: { origins: [origin], methods: ['POST'], headers: [], credentials: false } });
  try {
    const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 });
    const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body });
    assert.equal(r.status, 200);
    assert.ok(r.headers.get('x-sticky'), 'the scorer wrote its token under x-sticky');
    const exposed = (r.headers.get('access-control-expose-headers') ?? '').split(', ');
    assert.ok(exposed.includes('x-sticky'), exposed.join(', '));
    assert.ok(exposed.includes('x-request-id'));
    const plain = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(plain.headers.get('access-control-expose-headers'), null, 'no Origin, no CORS headers');
    await plain.arrayBuffer();
    await r.arrayBuffer();
  } finally {
    await gw.close();
    await fleet.close();
    await cfg.remove();
  }
});
