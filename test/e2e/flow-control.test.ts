/**
 * Flow control end to end (issue #15 part 2): a pool whose EndpointPickerConfig has featureGates:
 * [flowControl], simulated pods, the openai client. Queues wait then dispatch; TTL 429 and no-endpoint 503
 * carry x-llm-d-request-dropped-reason; a client that leaves is removed at once; round-robin fairness between
 * two tenants; strict priority between bands; stale metrics do not halt dispatch; shutdown answers 503.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { allowlistYaml, baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet } from '../helpers/fleet.js';
import { onePerEndpoint } from '../helpers/epp-configs.js';
import { withFleetGateway, type FleetGateway } from '../helpers/fleet-gateway.js';
import type { RunningGateway } from '../../src/cli/start-gateway.js';

const M = 'model/fc';
const HEAD = 'apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\nfeatureGates: [flowControl]\n';
/** One request at a time per endpoint: every other request waits in the gateway's queues. */
const ONE_AT_A_TIME = onePerEndpoint('defaultRequestTTL: 30s\ndefaultPriorityBand: {fairnessPolicyRef: round-robin-fairness-policy}');

function objective(name: string, priority: number): string {
  return `apiVersion: llm-d.ai/v1alpha2
kind: InferenceObjective
metadata: {name: ${name}}
spec: {priority: ${priority}, poolRef: {group: inference.networking.k8s.io, name: pool}}
`;
}

const docs = (fleet: Fleet): string[] => [
  ...[...fleet.sims.keys()].map((n) => podYaml(n, fleet.ipOf(n), { app: 'fc' })),
  poolYaml('pool', { app: 'fc' }, fleet.port),
  baseModelRouteYaml('r', M, [['pool', 1]]),
  objective('critical', 10),
  objective('sheddable', -1),
];

/** A gateway over one slow pod with `epp` as its EndpointPickerConfig. */
function withGateway(octet: number, epp: string, body: (t: FleetGateway) => Promise<void>, pods = 1): Promise<void> {
  const replicas = Array.from({ length: pods }, (_, i) => ({ name: `p${i}`, labels: {}, model: M, ttftMs: 0, itlMs: 20, maxNumSeqs: 1 }));
  return withFleetGateway(octet, replicas, docs, body, { eppConfig: { text: epp, file: 'flow-control.yaml' } });
}

interface PoolReport {
  queued: number;
  inFlight: number;
  saturation: { dispatching: boolean; staleEndpoints: number };
  bands: { priority: number; flows: { fairnessId: string; queued: number }[] }[];
}
async function flowState(gw: RunningGateway): Promise<PoolReport | undefined> {
  const r = (await (await fetch(`${gw.adminUrl}/debug/flow-control`)).json()) as { pools: PoolReport[] };
  return r.pools[0];
}
const queued = async (gw: RunningGateway): Promise<number> => (await flowState(gw))?.queued ?? 0;

/** Sends a completion; resolves with `label` pushed to `done` in completion order (or the error). */
function send(client: OpenAI, label: string, done: string[], maxTokens: number, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<unknown> {
  return client.completions.create({ model: M, prompt: label, max_tokens: maxTokens }, { headers, ...(signal ? { signal } : {}) }).then(
    () => done.push(label),
    (e: unknown) => e,
  );
}

/** Holds the pool's one slot with a long request, then queues each of `labels` in order (waiting for each to be queued). */
async function queueInOrder(t: FleetGateway, done: string[], items: [string, Record<string, string>][]): Promise<Promise<unknown>[]> {
  const all = [send(t.client, 'hold', done, 60)];
  assert.ok(await waitFor(async () => (await flowState(t.gw))?.inFlight === 1, 3000), 'the long request holds the slot');
  for (const [i, [label, headers]] of items.entries()) {
    all.push(send(t.client, label, done, 1, headers));
    assert.ok(await waitFor(async () => (await queued(t.gw)) === i + 1, 3000), `${label} is queued`);
  }
  return all;
}

async function metricsText(gw: RunningGateway): Promise<string> {
  return (await fetch(`${gw.adminUrl}/metrics`)).text();
}

function errorOf(e: unknown): { status: number | undefined; reason: string | null; code: unknown } {
  assert.ok(e instanceof OpenAI.APIError, `expected an API error, got ${String(e)}`);
  return { status: e.status, reason: e.headers?.get('x-llm-d-request-dropped-reason') ?? null, code: e.code };
}

test('requests wait while the pool is saturated, then dispatch; round-robin between two tenants', async () => {
  await withGateway(102, ONE_AT_A_TIME, async (t) => {
    const done: string[] = [];
    const a = { 'x-llm-d-inference-fairness-id': 'tenant-a' };
    const b = { 'x-gateway-inference-fairness-id': 'tenant-b' }; // GIE's older header name is read too
    const all = await queueInOrder(t, done, [['a1', a], ['a2', a], ['a3', a], ['b1', b], ['b2', b]]);
    const state = await flowState(t.gw);
    assert.deepEqual(state?.bands[0]?.flows.map((f) => [f.fairnessId, f.queued]), [['tenant-a', 3], ['tenant-b', 2]]);
    // The dashboard's state shows the same queues.
    const dash = (await (await fetch(`${t.gw.adminUrl}/api/state`)).json()) as { flowControl: PoolReport[] };
    assert.equal(dash.flowControl[0]?.queued, 5);
    await Promise.all(all);
    assert.deepEqual(done, ['hold', 'a1', 'b1', 'a2', 'b2', 'a3'], 'one turn each: the flooding tenant does not go first');
    const text = await metricsText(t.gw);
    assert.match(text, /llm_d_epp_flow_control_requests_total\{outcome="Dispatched",priority="0",inference_pool="pool"\} 6/);
    assert.match(text, /llm_d_epp_flow_control_request_queue_duration_seconds_count\{fairness_id="tenant-a",priority="0",outcome="Dispatched",inference_pool="pool",model_name="model\/fc",target_model_name="model\/fc"\} 3/);
    assert.match(text, /llm_d_epp_flow_control_queue_size/);
  });
});

test('strict priority between bands: critical, then default, then sheddable', async () => {
  await withGateway(102, ONE_AT_A_TIME, async (t) => {
    const done: string[] = [];
    const obj = (name: string) => ({ 'x-llm-d-inference-objective': name });
    const all = await queueInOrder(t, done, [['low', obj('sheddable')], ['mid', {}], ['high', obj('critical')]]);
    await Promise.all(all);
    assert.deepEqual(done, ['hold', 'high', 'mid', 'low']);
  });
});

test('a request past its TTL gets 429 rejected-ttl-expired; a client that leaves is removed at once', async () => {
  const epp = ONE_AT_A_TIME.replace('defaultRequestTTL: 30s', 'defaultRequestTTL: 300ms');
  await withGateway(103, epp, async (t) => {
    const done: string[] = [];
    const hold = send(t.client, 'hold', done, 60);
    assert.ok(await waitFor(async () => (await flowState(t.gw))?.inFlight === 1, 3000));
    const late = errorOf(await send(t.client, 'late', done, 1));
    assert.deepEqual(late, { status: 429, reason: 'rejected-ttl-expired', code: 'request_queue_timeout' });

    const abort = new AbortController();
    const gone = send(t.client, 'gone', done, 1, {}, abort.signal);
    assert.ok(await waitFor(async () => (await queued(t.gw)) === 1, 3000), 'queued');
    abort.abort();
    assert.ok(await waitFor(async () => (await queued(t.gw)) === 0, 1000), 'removed from its queue as the client left, before any TTL');
    await gone;
    await hold;
    assert.deepEqual(done, ['hold']);
    const text = await metricsText(t.gw);
    assert.match(text, /llm_d_epp_flow_control_requests_total\{outcome="EvictedTTL",priority="0",inference_pool="pool"\} 1/);
    assert.match(text, /llm_d_epp_flow_control_requests_total\{outcome="EvictedContextCancelled",priority="0",inference_pool="pool"\} 1/);
  });
});

test('a pool without endpoints: 503 rejected-no-endpoints after noEndpointRequestTTL', async () => {
  const epp = ONE_AT_A_TIME.replace('defaultRequestTTL: 30s', 'defaultRequestTTL: 30s\n  noEndpointRequestTTL: 200ms');
  const fleet = await startFleet(103, [{ name: 'p0', labels: {}, model: M, ttftMs: 0, itlMs: 1 }]);
  // The pod is not Ready: the pool has no endpoint (a scale-from-zero waiting room); the allowlist names the model.
  const cfg = await tempConfig({
    'all.yaml': [podYaml('p0', fleet.ipOf('p0'), { app: 'fc' }, { ready: false }), poolYaml('pool', { app: 'fc' }, fleet.port), baseModelRouteYaml('r', M, [['pool', 1]]), allowlistYaml('models', M, [])].join('---\n'),
  });
  const gw = await startTestGateway(cfg.dir, { eppConfig: { text: epp, file: 'flow-control.yaml' } });
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const e = errorOf(await send(client, 'x', [], 1));
    assert.deepEqual(e, { status: 503, reason: 'rejected-no-endpoints', code: 'no_endpoints_available' });
  } finally {
    await gw.close();
    await fleet.close();
    await cfg.remove();
  }
});

test('stale metrics do not halt dispatch: an all-stale pool is not gated', async () => {
  // Metrics older than 1 ms count as stale: every endpoint is always stale.
  const epp = `${HEAD}plugins:
- type: utilization-detector
  parameters: {metricsStalenessThreshold: 1ms, queueDepthThreshold: 1}
- type: queue-scorer
flowControl:
  defaultRequestTTL: 2s
`;

  await withGateway(103, epp, async (t) => {
    const done: string[] = [];
    await Promise.all([1, 2, 3, 4].map((i) => send(t.client, `r${i}`, done, 2)));
    assert.equal(done.length, 4, 'every request was dispatched');
    const state = await flowState(t.gw);
    assert.equal(state?.saturation.dispatching, true);
    assert.equal(state?.saturation.staleEndpoints, 1);
    assert.match(await metricsText(t.gw), /llm_d_epp_flow_control_stale_endpoints\{detector="utilization-detector"\} 1/);
  }, 1);
});

test('shutdown: a request still queued when the drain times out gets 503 rejected-shutting-down', async () => {
  const fleet = await startFleet(103, [{ name: 'p0', labels: {}, model: M, ttftMs: 0, itlMs: 20, maxNumSeqs: 1 }]);
  const cfg = await tempConfig({ 'all.yaml': docs(fleet).join('---\n') });
  const gw = await startTestGateway(cfg.dir, { eppConfig: { text: ONE_AT_A_TIME, file: 'flow-control.yaml' } });
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const hold = send(client, 'hold', [], 100);
    assert.ok(await waitFor(async () => (await flowState(gw))?.inFlight === 1, 3000));
    const waiting = send(client, 'waiting', [], 1);
    assert.ok(await waitFor(async () => (await queued(gw)) === 1, 3000));
    await gw.shutdown({ delayMs: 0, drainTimeoutMs: 300 });
    assert.deepEqual(errorOf(await waiting), { status: 503, reason: 'rejected-shutting-down', code: 'shutting_down' });
    await hold;
  } finally {
    await fleet.close();
    await cfg.remove();
  }
});
