/**
 * Flow control in `infergate extproc` (issue #15 part 2), where llm-d runs it: in the EPP. A gRPC client
 * replays Envoy's FULL_DUPLEX_STREAMED sequences; a request waits after its body, is picked when dispatched,
 * and a dropped one is an immediate_response with x-llm-d-request-dropped-reason. Simulated pods on
 * 127.0.112.x; each pool holds one request at a time (concurrency-detector, maxConcurrency 1), so a stream
 * that got its pick and whose response has not ended holds the slot.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ExtProcClient, requestBody, requestBodyChunks, requestHeaders, requestTrailers, responseHeaders, type EnvoyMessageOptions, type ProcessingStreamClient } from '../../src/extproc/ext-proc-client.js';
import type { ProcessingResponse } from '../../src/envoy/processing-messages.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import type { FlowController } from '../../src/flowcontrol/flow-controller.js';
import { eppConfigMapYaml } from '../../src/config/manifests.js';
import { onePerEndpoint } from '../helpers/epp-configs.js';
import { ended, startTestExtproc } from '../helpers/extproc.js';
import { allowlistYaml, baseModelRouteYaml, podYaml, poolYaml, startFleet, tempConfig, type Fleet, type TempConfig } from '../helpers/fleet.js';
import { until } from '../helpers/until.js';

const FC = 'model/fc';
const TIGHT = 'model/tight';
const EMPTY = 'model/empty';
const SHORT = 'model/short-ttl';

/** A pool named `name`, selecting pods labelled pool=name, with its own EndpointPickerConfig. */
const pool = (name: string, port: number, epp: string): string[] => [
  poolYaml(name, { pool: name }, port).replace('  namespace: default\n', `  namespace: default\n  annotations: {infergate.io/endpoint-picker-config: ${name}-epp}\n`),
  eppConfigMapYaml(`${name}-epp`, epp),
];

let fleet: Fleet;
let cfg: TempConfig;
let xp: RunningExtproc;
let client: ExtProcClient;

before(async () => {
  fleet = await startFleet(112, [
    { name: 'fc-0', labels: {}, model: FC, ttftMs: 0, itlMs: 1 },
    { name: 'tight-0', labels: {}, model: TIGHT, ttftMs: 0, itlMs: 1 },
    { name: 'empty-0', labels: {}, model: EMPTY, ttftMs: 0, itlMs: 1 },
    { name: 'short-0', labels: {}, model: SHORT, ttftMs: 0, itlMs: 1 },
  ]);
  cfg = await tempConfig({
    'all.yaml': [
      podYaml('fc-0', fleet.ipOf('fc-0'), { pool: 'fc' }),
      podYaml('tight-0', fleet.ipOf('tight-0'), { pool: 'tight' }),
      // Not Ready: the pool has no endpoint (a scale-from-zero waiting room); the allowlist names its model.
      podYaml('empty-0', fleet.ipOf('empty-0'), { pool: 'empty' }, { ready: false }),
      podYaml('short-0', fleet.ipOf('short-0'), { pool: 'short' }),
      ...pool('fc', fleet.port, onePerEndpoint('defaultRequestTTL: 30s\ndefaultPriorityBand: {fairnessPolicyRef: round-robin-fairness-policy}')),
      ...pool('tight', fleet.port, onePerEndpoint('defaultRequestTTL: 30s\ndefaultPriorityBand: {maxRequests: 1}')),
      ...pool('short', fleet.port, onePerEndpoint('defaultRequestTTL: 300ms')),
      ...pool('empty', fleet.port, onePerEndpoint('defaultRequestTTL: 30s\nnoEndpointRequestTTL: 200ms')),
      baseModelRouteYaml('fc', FC, [['fc', 1]]),
      baseModelRouteYaml('tight', TIGHT, [['tight', 1]]),
      baseModelRouteYaml('empty', EMPTY, [['empty', 1]]),
      baseModelRouteYaml('short', SHORT, [['short', 1]]),
      allowlistYaml('empty-models', EMPTY, []),
      `apiVersion: llm-d.ai/v1alpha2
kind: InferenceObjective
metadata: {name: critical}
spec: {priority: 10, poolRef: {group: inference.networking.k8s.io, name: fc}}
`,
    ].join('---\n'),
  });
  xp = await startTestExtproc({ configPath: cfg.dir });
  client = new ExtProcClient(`127.0.0.1:${xp.ports.epp}`);
});

after(async () => {
  client?.close();
  await xp?.close();
  await fleet?.close();
  await cfg?.remove();
});

const FULL_DUPLEX: EnvoyMessageOptions = { protocol: { request: 'FULL_DUPLEX_STREAMED', response: 'FULL_DUPLEX_STREAMED' } };
const CHAT = { ':method': 'POST', ':path': '/v1/chat/completions', ':authority': 'gw.example', 'content-type': 'application/json' };
const chat = (model: string): string => JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] });
const addr = (pod: string): string => `${fleet.ipOf(pod)}:${fleet.port}`;
const controller = (name: string): FlowController => xp.gateway.flowControl.controller(`default/${name}`)!;
const adminText = async (path: string): Promise<string> => (await fetch(`http://127.0.0.1:${xp.ports.admin}${path}`)).text();

/** One request as Envoy sends it in FULL_DUPLEX_STREAMED: headers, then the whole body. */
const open = (model: string, headers: Record<string, string> = {}): ProcessingStreamClient => client.open().send(requestHeaders({ ...CHAT, ...headers }, false, FULL_DUPLEX), requestBody(chat(model), true));

/** The pick: the headers answer's destination, then the body streamed back. */
async function picked(s: ProcessingStreamClient): Promise<string> {
  const r = await s.next();
  const h = r.request_headers?.response?.header_mutation?.set_headers?.find((o) => o.header.key === 'x-gateway-destination-endpoint');
  assert.ok(h?.header.raw_value, `expected a pick, got ${JSON.stringify(r)}`);
  assert.equal(r.dynamic_metadata?.fields?.['envoy.lb']?.structValue?.fields?.['x-gateway-destination-endpoint']?.stringValue, h.header.raw_value.toString());
  assert.ok((await s.next()).request_body, 'the body follows the pick');
  return h.header.raw_value.toString();
}

/** The response ends (headers with end_of_stream), which releases the request's dispatch slot. */
async function respond(s: ProcessingStreamClient): Promise<void> {
  s.send(responseHeaders({ ':status': '200' }, true));
  assert.equal((await s.next()).response, 'response_headers');
  await ended(s);
}

/** The immediate response's status, dropped reason, error code and details. */
function dropped(r: ProcessingResponse): { status: unknown; reason: string | undefined; code: string; details: string | undefined } {
  const ir = r.immediate_response;
  assert.ok(ir, `expected an immediate_response, got ${JSON.stringify(r)}`);
  const reason = ir.headers?.set_headers?.find((o) => o.header.key === 'x-llm-d-request-dropped-reason')?.header.raw_value?.toString();
  const body = JSON.parse(ir.body!.toString()) as { error: { code: string; type: string } };
  return { status: ir.status.code, reason, code: body.error.code, details: ir.details };
}

test('a queued request gets no answer while the pool is full, and its pick when the slot frees; the response end releases it', async () => {
  const hold = open(FC);
  assert.equal(await picked(hold), addr('fc-0'));
  const waiting = open(FC);
  await until(() => controller('fc').length === 1, 'the second request queued');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(waiting.pending().length, 0, 'nothing answered while it waits');
  await respond(hold);
  assert.equal(await picked(waiting), addr('fc-0'), 'picked at dispatch');
  assert.equal(controller('fc').inFlight, 1);
  await respond(waiting);
  assert.equal(controller('fc').inFlight, 0, 'released at the response end');
  // A stream that closes after its pick releases the slot too.
  const cut = open(FC);
  await picked(cut);
  cut.cancel();
  await until(() => controller('fc').inFlight === 0, 'released when the stream is cancelled');
});

test('while a request waits, Envoy\'s later messages are held and answered in order after its pick (trailers, BUFFERED)', async () => {
  const hold = open(FC);
  await picked(hold);
  const trailers = client.open().send(requestHeaders(CHAT, false, FULL_DUPLEX), ...requestBodyChunks(chat(FC), 16, false), requestTrailers({ 'x-checksum': '1' }));
  await until(() => controller('fc').length === 1, 'the first queued');
  const buffered = client.open().send(requestHeaders(CHAT, false, { protocol: { request: 'BUFFERED', response: 'BUFFERED' } }));
  assert.deepEqual(await buffered.next(), { request_headers: {}, response: 'request_headers' }, 'BUFFERED headers are answered at once');
  buffered.send(requestBody(chat(FC), true));
  await until(() => controller('fc').length === 2, 'both queued');
  assert.equal(trailers.pending().length + buffered.pending().length, 0);
  await respond(hold);
  // FULL_DUPLEX with trailers: the headers answer (the pick), the body streamed back without end_of_stream, then the trailers answer.
  const answers = [await trailers.next(), await trailers.next(), await trailers.next()];
  assert.deepEqual(answers.map((a) => a.response), ['request_headers', 'request_body', 'request_trailers']);
  assert.equal(answers[0]!.request_headers?.response?.header_mutation?.set_headers?.find((o) => o.header.key === 'x-gateway-destination-endpoint')?.header.raw_value?.toString(), addr('fc-0'));
  assert.equal(answers[1]!.request_body?.response?.body_mutation?.streamed_response?.end_of_stream, undefined, 'trailers follow');
  assert.equal(buffered.pending().length, 0, 'one at a time');
  await respond(trailers);
  const r = await buffered.next();
  assert.equal(r.request_body?.response?.header_mutation?.set_headers?.find((o) => o.header.key === 'x-gateway-destination-endpoint')?.header.raw_value?.toString(), addr('fc-0'), 'the pick comes with the body answer');
  await respond(buffered);
  assert.equal(controller('fc').inFlight, 0);
});

test('strict priority, then round-robin between two fairness ids', async () => {
  const hold = open(FC);
  await picked(hold);
  const a = { 'x-llm-d-inference-fairness-id': 'tenant-a' };
  const b = { 'x-gateway-inference-fairness-id': 'tenant-b' }; // GIE's older header name is read too
  const streams = new Map<string, ProcessingStreamClient>();
  for (const [label, headers] of [['a1', a], ['a2', a], ['a3', a], ['b1', b], ['c1', { ...b, 'x-llm-d-inference-objective': 'critical' }]] as const) {
    streams.set(label, open(FC, headers));
    await until(() => controller('fc').length === streams.size, `${label} queued`);
  }
  const report = JSON.parse(await adminText('/debug/flow-control')) as { pools: { pool: string; queued: number; bands: { priority: number; flows: { fairnessId: string; queued: number }[] }[] }[] };
  const fc = report.pools.find((p) => p.pool === 'default/fc');
  assert.equal(fc?.queued, 5);
  assert.deepEqual(fc?.bands.map((band) => [band.priority, band.flows.map((f) => [f.fairnessId, f.queued])]), [[10, [['tenant-b', 1]]], [0, [['tenant-a', 3], ['tenant-b', 1]]]]);
  await respond(hold);
  const order: string[] = [];
  while (streams.size > 0) {
    let next: string | undefined;
    await until(() => (next = [...streams].find(([, s]) => s.pending().length > 0)?.[0]) !== undefined, 'the next dispatch');
    const s = streams.get(next!)!;
    streams.delete(next!);
    order.push(next!);
    await picked(s);
    assert.equal([...streams.values()].filter((o) => o.pending().length > 0).length, 0, 'one at a time');
    await respond(s);
  }
  assert.deepEqual(order, ['c1', 'a1', 'b1', 'a2', 'a3']);
});

test('band full: 429 rejected-saturated at once', async () => {
  const hold = open(TIGHT);
  await picked(hold);
  const waiting = open(TIGHT);
  await until(() => controller('tight').length === 1, 'queued');
  const full = dropped(await open(TIGHT).next());
  assert.deepEqual(full, { status: 'TooManyRequests', reason: 'rejected-saturated', code: 'request_queue_full', details: 'infergate_request_queue_full' });
  await respond(hold);
  await picked(waiting);
  await respond(waiting);
  const text = await adminText('/metrics');
  assert.match(text, /^llm_d_epp_flow_control_requests_total\{outcome="RejectedCapacity",priority="0",inference_pool="tight"\} 1$/m);
  assert.match(text, /^infergate_extproc_requests_total\{processor="epp",outcome="request_queue_full"\} 1$/m);
});

test('a request still queued after defaultRequestTTL: 429 rejected-ttl-expired', async () => {
  const hold = open(SHORT);
  await picked(hold);
  const late = dropped(await open(SHORT).next(3000));
  assert.deepEqual(late, { status: 'TooManyRequests', reason: 'rejected-ttl-expired', code: 'request_queue_timeout', details: 'infergate_request_queue_timeout' });
  assert.equal(controller('short').length, 0);
  await respond(hold);
  assert.match(await adminText('/metrics'), /^llm_d_epp_flow_control_requests_total\{outcome="EvictedTTL",priority="0",inference_pool="short"\} 1$/m);
});

test('a pool without endpoints: 503 rejected-no-endpoints after noEndpointRequestTTL', async () => {
  const r = await open(EMPTY).next(3000);
  assert.deepEqual(dropped(r), { status: 'ServiceUnavailable', reason: 'rejected-no-endpoints', code: 'no_endpoints_available', details: 'infergate_no_endpoints_available' });
  const headers = r.immediate_response!.headers!.set_headers!.map((o) => [o.header.key, o.header.raw_value?.toString()]);
  assert.deepEqual(headers, [['content-type', 'application/json'], ['retry-after', '1'], ['x-llm-d-request-dropped-reason', 'rejected-no-endpoints']]);
});

test('a stream cancelled while queued leaves the queue at once', async () => {
  const hold = open(FC);
  await picked(hold);
  const gone = open(FC, { 'x-llm-d-inference-fairness-id': 'leaver' });
  await until(() => controller('fc').length === 1, 'queued');
  assert.match(await adminText('/metrics'), /^llm_d_epp_flow_control_queue_size\{fairness_id="leaver",priority="0",inference_pool="fc",model_name="model\/fc",target_model_name="model\/fc"\} 1$/m);
  gone.cancel();
  await until(() => controller('fc').length === 0, 'removed from its queue as the stream closed, before any TTL');
  const report = JSON.parse(await adminText('/debug/flow-control')) as { pools: { pool: string; queued: number }[] };
  assert.equal(report.pools.find((p) => p.pool === 'default/fc')?.queued, 0);
  const text = await adminText('/metrics');
  // The flow's queue reads 0 once it left, as llm-d's gauge does (not absent).
  assert.match(text, /^llm_d_epp_flow_control_queue_size\{fairness_id="leaver",priority="0",inference_pool="fc",model_name="model\/fc",target_model_name="model\/fc"\} 0$/m);
  assert.match(text, /^llm_d_epp_flow_control_requests_total\{outcome="EvictedContextCancelled",priority="0",inference_pool="fc"\} 1$/m);
  await respond(hold);
  assert.equal(controller('fc').inFlight, 0, 'the cancelled request never held a slot');
});

test('shutdown: a request still queued when the drain times out gets 503 rejected-shutting-down', async () => {
  // A picker of its own, so the shared one keeps serving the other tests.
  const own = await startTestExtproc({ configPath: cfg.dir });
  const c = new ExtProcClient(`127.0.0.1:${own.ports.epp}`);
  let stopped: Promise<unknown> | undefined;
  try {
    const send = (): ProcessingStreamClient => c.open().send(requestHeaders(CHAT, false, FULL_DUPLEX), requestBody(chat(FC), true));
    const hold = send();
    await picked(hold);
    const waiting = send();
    await until(() => own.gateway.flowControl.controller('default/fc')?.length === 1, 'queued');
    stopped = own.shutdown({ delayMs: 0, drainTimeoutMs: 300 });
    assert.deepEqual(dropped(await waiting.next(3000)), { status: 'ServiceUnavailable', reason: 'rejected-shutting-down', code: 'shutting_down', details: 'infergate_shutting_down' });
    await stopped;
  } finally {
    c.close();
    if (stopped === undefined) await own.close();
  }
});
