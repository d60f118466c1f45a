/** The endpoint picker end to end: per-pool EndpointPickerConfig, live metrics, admission, debug traces. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor } from '../helpers/fleet.js';
import { SESSION_AFFINITY_CONFIG } from '../helpers/epp-configs.js';
import { eppConfigMapYaml } from '../../src/config/manifests.js';

const A = 'model/a';
const B = 'model/b';


function objective(name: string, pool: string, priority: number): string {
  return `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: ${name}}
spec: {priority: ${priority}, poolRef: {group: inference.networking.k8s.io, name: ${pool}}}
`;
}

test('one process, two pools, two EndpointPickerConfigs: session affinity only where configured', async () => {
  const fleet = await startFleet(38, [
    { name: 'a-0', labels: {}, model: A, ttftMs: 0, itlMs: 1 },
    { name: 'a-1', labels: {}, model: A, ttftMs: 0, itlMs: 1 },
    { name: 'a-2', labels: {}, model: A, ttftMs: 0, itlMs: 1 },
    { name: 'b-0', labels: {}, model: B, ttftMs: 0, itlMs: 1 },
    { name: 'b-1', labels: {}, model: B, ttftMs: 0, itlMs: 1 },
  ]);
  const poolA = poolYaml('pool-a', { m: 'a' }, fleet.port).replace('metadata:\n  name: pool-a', 'metadata:\n  name: pool-a\n  annotations: {infergate.io/endpoint-picker-config: sticky}');
  const cfg = await tempConfig({
    'all.yaml': [
      ...['a-0', 'a-1', 'a-2'].map((n) => podYaml(n, fleet.ipOf(n), { m: 'a' })),
      ...['b-0', 'b-1'].map((n) => podYaml(n, fleet.ipOf(n), { m: 'b' })),
      poolA,
      poolYaml('pool-b', { m: 'b' }, fleet.port),
      baseModelRouteYaml('a', A, [['pool-a', 1]]),
      baseModelRouteYaml('b', B, [['pool-b', 1]]),
      eppConfigMapYaml('sticky', SESSION_AFFINITY_CONFIG),
    ].join('---\n'),
  });
  const gw = await startTestGateway(cfg.dir, { debugDecisions: 10 });
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const first = await client.completions.create({ model: A, prompt: 'hello', max_tokens: 1 }).withResponse();
    const token = first.response.headers.get('x-session-token');
    assert.ok(token, 'pool-a (session-affinity-scorer) sets x-session-token');
    const pinned = first.response.headers.get('x-gateway-destination-endpoint-served');
    for (let i = 0; i < 15; i++) {
      const r = await client.completions.create({ model: A, prompt: `q${i}`, max_tokens: 1 }, { headers: { 'x-session-token': token } }).withResponse();
      assert.equal(r.response.headers.get('x-gateway-destination-endpoint-served'), pinned, 'the session stays on its endpoint');
    }
    const b = await client.completions.create({ model: B, prompt: 'hello', max_tokens: 1 }).withResponse();
    assert.equal(b.response.headers.get('x-session-token'), null, 'pool-b uses the default profile: no session token');
    assert.equal(b.data.model, B);

    const debug = (await (await fetch(`${gw.adminUrl}/debug/scheduling?limit=2`)).json()) as { decisions: { pool: string; profiles: { scorers: { type: string; scores: number[] }[] }[] }[] };
    assert.equal(debug.decisions.length, 2);
    assert.equal(debug.decisions[0]!.pool, 'default/pool-b');
    assert.deepEqual(debug.decisions[0]!.profiles[0]!.scorers.map((s) => s.type), ['queue-scorer', 'kv-cache-utilization-scorer', 'prefix-cache-scorer']);
    assert.deepEqual(debug.decisions[1]!.profiles[0]!.scorers.map((s) => s.type), ['session-affinity-scorer', 'queue-scorer']);
  } finally {
    await gw.close();
    await fleet.close();
    await cfg.remove();
  }
});

test('a saturated pool sheds negative-priority requests with 429 and still serves the others; stale metrics shed nothing', async () => {
  const fleet = await startFleet(39, [{ name: 'busy-0', labels: {}, model: A, ttftMs: 0, itlMs: 10, maxNumSeqs: 1 }]);
  const cfg = await tempConfig({
    'all.yaml': [podYaml('busy-0', fleet.ipOf('busy-0'), { m: 'a' }), poolYaml('busy', { m: 'a' }, fleet.port), baseModelRouteYaml('a', A, [['busy', 1]]), objective('batch', 'busy', -1), objective('chat', 'busy', 10)].join('---\n'),
  });
  const gw = await startTestGateway(cfg.dir);
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    // One slot and seven 40-token requests: six wait, above the utilization-detector's queue threshold of 5.
    const load = Array.from({ length: 7 }, () => client.completions.create({ model: A, prompt: 'long', max_tokens: 40 }));
    const ep = gw.gateway.datastore.endpoint(`${fleet.ipOf('busy-0')}:${fleet.port}`)!;
    assert.ok(await waitFor(() => (ep.metrics?.waitingQueueSize ?? 0) >= 5, 3000), `waiting never reached 5: ${JSON.stringify(ep.metrics)}`);
    await assert.rejects(client.completions.create({ model: A, prompt: 'x', max_tokens: 1 }, { headers: { 'x-gateway-inference-objective': 'batch' } }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.RateLimitError, String(e));
      assert.equal(e.code, 'request_shed');
      assert.match(e.message, /InferencePool default\/busy is saturated/);
      return true;
    });
    const ok = client.completions.create({ model: A, prompt: 'x', max_tokens: 1 }, { headers: { 'x-gateway-inference-objective': 'chat' } });
    await Promise.all(load);
    assert.equal((await ok).model, A, 'a priority-10 request waits its turn instead of being shed');
    assert.ok(await waitFor(() => (ep.metrics?.waitingQueueSize ?? 1) === 0, 3000));
    assert.equal((await client.completions.create({ model: A, prompt: 'x', max_tokens: 1 }, { headers: { 'x-gateway-inference-objective': 'batch' } })).model, A, 'once load falls, sheddable requests pass');
  } finally {
    await gw.close();
  }
  // Metrics that go stale (scraper stopped) must not turn into an outage for sheddable traffic.
  const stale = await startTestGateway(cfg.dir, { refreshMetricsIntervalMs: 600_000 });
  try {
    const client = new OpenAI({ baseURL: `${stale.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await new Promise((r) => setTimeout(r, 400));
    assert.equal((await client.completions.create({ model: A, prompt: 'x', max_tokens: 1 }, { headers: { 'x-gateway-inference-objective': 'batch' } })).model, A);
  } finally {
    await stale.close();
    await fleet.close();
    await cfg.remove();
  }
});
