/**
 * The endpoint picker's ext_proc server for several pools at once, driven by a gRPC client that replays
 * Envoy's message sequences (request and response phases); every field of every answer is checked.
 * Simulated vLLM pods on 127.0.45.x answer /v1/models and /metrics. No Envoy binary runs here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { sessionToken } from '../../src/epp/plugins/session-affinity-scorer.js';
import {
  ExtProcClient,
  requestBody,
  requestBodyChunks,
  requestHeaders,
  requestTrailers,
  responseBody,
  responseHeaders,
  responseTrailers,
  type EnvoyMessageOptions,
} from '../../src/extproc/ext-proc-client.js';
import type { ProcessingResponse } from '../../src/extproc/processing-messages.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { ended, startTestExtproc } from '../helpers/extproc.js';
import { allowlistYaml, baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';
import { SESSION_AFFINITY_CONFIG } from '../helpers/epp-configs.js';
import { eppConfigMapYaml } from '../../src/config/manifests.js';

const GEMMA = 'google/gemma-2b-it';
const QWEN = 'Qwen/Qwen3-32B';
const BUSY = 'busy/model';

function config(port: number, ip: (n: string) => string): Record<string, string> {
  return {
    'pods.yaml': [
      podYaml('gemma-0', ip('gemma-0'), { model: 'gemma' }),
      podYaml('gemma-1', ip('gemma-1'), { model: 'gemma' }),
      podYaml('qwen-0', ip('qwen-0'), { model: 'qwen' }),
      podYaml('busy-0', ip('busy-0'), { model: 'busy' }),
      podYaml('down-0', '127.0.45.250', { model: 'down' }, { ready: false }),
    ].join('---\n'),
    // gemma uses session affinity (a scheduler with a response-headers hook); the others llm-d's default profile.
    'pools.yaml': [
      poolYaml('gemma', { model: 'gemma' }, port).replace('  namespace: default\n', '  namespace: default\n  annotations: {infergate.io/endpoint-picker-config: sticky}\n'),
      eppConfigMapYaml('sticky', SESSION_AFFINITY_CONFIG),
      poolYaml('qwen', { model: 'qwen' }, port),
      poolYaml('busy', { model: 'busy' }, port),
      poolYaml('down', { model: 'down' }, port),
    ].join('---\n'),
    'routes.yaml': [
      baseModelRouteYaml('gemma', GEMMA, [['gemma', 1]]),
      baseModelRouteYaml('qwen', QWEN, [['qwen', 1]]),
      baseModelRouteYaml('busy', BUSY, [['busy', 1]]),
      baseModelRouteYaml('down', 'down/model', [['down', 1]]),
    ].join('---\n'),
    'objectives.yaml': `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: batch}
spec: {priority: -1, poolRef: {group: inference.networking.k8s.io, name: busy}}
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: {name: segment-canary}
spec:
  poolRef: {group: inference.networking.k8s.io, name: qwen}
  rules:
    - matches: [{model: {type: Exact, value: segment-lora}}]
      targets: [{modelRewrite: segment-lora-v1, weight: 100}]
`,
    'allowlists.yaml': allowlistYaml('down', 'down/model', []),
  };
}

let fleet: Fleet;
let cfg: TempConfig;
let xp: RunningExtproc;
let gw: RunningGateway;
let client: ExtProcClient;
let addr: (pod: string) => string;

before(async () => {
  fleet = await startFleet(45, [
    { name: 'gemma-0', labels: {}, model: GEMMA, loras: ['gemma-sql-lora'], ttftMs: 0, itlMs: 1 },
    { name: 'gemma-1', labels: {}, model: GEMMA, loras: ['gemma-sql-lora'], ttftMs: 0, itlMs: 1 },
    { name: 'qwen-0', labels: {}, model: QWEN, loras: ['segment-lora-v1'], ttftMs: 0, itlMs: 1 },
    { name: 'busy-0', labels: {}, model: BUSY, ttftMs: 0, itlMs: 10, maxNumSeqs: 1 },
  ]);
  addr = (pod) => `${fleet.ipOf(pod)}:${fleet.port}`;
  cfg = await tempConfig(config(fleet.port, fleet.ipOf));
  xp = await startTestExtproc({ configPath: cfg.dir, debugDecisions: 50, debugShowRequestIds: true });
  gw = await startTestGateway(cfg.dir);
  client = new ExtProcClient(`127.0.0.1:${xp.ports.epp}`);
});

after(async () => {
  client?.close();
  await xp?.close();
  await gw?.close();
  await fleet?.close();
  await cfg?.remove();
});

const CHAT = { ':method': 'POST', ':path': '/v1/chat/completions', ':authority': 'gw.example', 'content-type': 'application/json' };
const chat = (model: string): string => JSON.stringify({ model, messages: [{ role: 'user', content: 'hello there' }] });
const set = (key: string, value: string): unknown => ({ header: { key, raw_value: Buffer.from(value) }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
const lb = (endpoint: string): unknown => ({
  fields: { 'envoy.lb': { structValue: { fields: { 'x-gateway-destination-endpoint': { stringValue: endpoint, kind: 'stringValue' } } }, kind: 'structValue' } },
});
const inFlight = (address: string): number => xp.gateway.datastore.endpoint(address)!.inFlight;

/** The picked endpoint, read from an answer's header mutation. */
function destination(r: ProcessingResponse): string {
  const common = r.request_headers?.response ?? r.request_body?.response;
  const h = common?.header_mutation?.set_headers?.find((o) => o.header.key === 'x-gateway-destination-endpoint');
  assert.ok(h?.header.raw_value, `no destination in ${JSON.stringify(r)}`);
  return h.header.raw_value.toString();
}

/** The full-duplex headers answer for a pick of `model` (base `base`) at `endpoint`. */
function pickAnswer(model: string, base: string, endpoint: string, extra: unknown[] = [], remove?: string[]): ProcessingResponse {
  const mutation: Record<string, unknown> = { set_headers: [set('x-gateway-model-name', model), set('x-gateway-base-model-name', base), set('x-gateway-destination-endpoint', endpoint), ...extra] };
  if (remove) mutation.remove_headers = remove;
  return { request_headers: { response: { header_mutation: mutation } }, dynamic_metadata: lb(endpoint), response: 'request_headers' } as ProcessingResponse;
}

const echoed = (body: string | Buffer, eos: boolean, phase: 'request_body' | 'response_body' = 'request_body'): ProcessingResponse =>
  ({ [phase]: { response: { body_mutation: { streamed_response: { body: Buffer.from(body), ...(eos ? { end_of_stream: true } : {}) }, mutation: 'streamed_response' } } }, response: phase }) as ProcessingResponse;

const FULL_DUPLEX: EnvoyMessageOptions = { protocol: { request: 'FULL_DUPLEX_STREAMED', response: 'FULL_DUPLEX_STREAMED' } };

describe('FULL_DUPLEX_STREAMED, request and response', () => {
  test('a body in many chunks: the pick in header and envoy.lb, the body streamed back; the response releases the in-flight count', async () => {
    const body = chat('gemma-sql-lora');
    const s = client.open().send(requestHeaders(CHAT, false, FULL_DUPLEX), ...requestBodyChunks(body, 9));
    const headers = await s.next();
    const picked = destination(headers);
    assert.ok([addr('gemma-0'), addr('gemma-1')].includes(picked), picked);
    assert.deepEqual(headers, pickAnswer('gemma-sql-lora', GEMMA, picked));
    assert.deepEqual(await s.next(), echoed(body, true));
    assert.equal(inFlight(picked), 1, 'counted at pick time');

    s.send(responseHeaders({ ':status': '200', 'content-type': 'text/event-stream' }, false));
    const pod = picked === addr('gemma-0') ? 'gemma-0' : 'gemma-1';
    const ep = xp.gateway.datastore.endpoint(picked)!;
    assert.deepEqual(await s.next(), {
      response_headers: { response: { header_mutation: { set_headers: [set('x-gateway-destination-endpoint-served', picked), set('x-session-token', sessionToken(ep))] } } },
      response: 'response_headers',
    });
    assert.equal(pod === 'gemma-0' || pod === 'gemma-1', true);
    s.send(responseBody('data: {"x":1}\n\n', false));
    assert.deepEqual(await s.next(), echoed('data: {"x":1}\n\n', false, 'response_body'));
    assert.equal(inFlight(picked), 1, 'held while the response streams');
    s.send(responseBody('data: [DONE]\n\n', true));
    assert.deepEqual(await s.next(), echoed('data: [DONE]\n\n', true, 'response_body'));
    assert.equal(inFlight(picked), 0, 'released at the end of the response body');
    await ended(s);
    assert.equal(inFlight(picked), 0, 'released once only');
  });

  test('trailers on both sides: the request body without end_of_stream, trailer answers, release on response trailers', async () => {
    const body = chat(GEMMA);
    const s = client.open().send(requestHeaders(CHAT, false, FULL_DUPLEX), ...requestBodyChunks(body, 11, false), requestTrailers({ 'x-checksum': '1' }));
    const picked = destination(await s.next());
    assert.deepEqual(await s.next(), echoed(body, false));
    assert.deepEqual(await s.next(), { request_trailers: {}, response: 'request_trailers' });
    s.send(responseHeaders({ ':status': '200' }, false), responseBody('{"ok":true}', false));
    assert.equal((await s.next()).response, 'response_headers');
    assert.deepEqual(await s.next(), echoed('{"ok":true}', false, 'response_body'));
    assert.equal(inFlight(picked), 1);
    s.send(responseTrailers({ 'grpc-status': '0' }));
    assert.deepEqual(await s.next(), { response_trailers: {}, response: 'response_trailers' });
    assert.equal(inFlight(picked), 0);
    await ended(s);
  });

  test('the endpoint the data plane reports as served (envoy.lb) is what the client is told and what the hooks see', async () => {
    const s = client.open().send(requestHeaders(CHAT, false, FULL_DUPLEX), requestBody(chat(GEMMA), true));
    const picked = destination(await s.next());
    await s.next();
    const other = picked === addr('gemma-0') ? addr('gemma-1') : addr('gemma-0');
    s.send(responseHeaders({ ':status': '200' }, true, { 'envoy.lb': { 'x-gateway-destination-endpoint-served': other } }));
    assert.deepEqual(await s.next(), {
      response_headers: { response: { header_mutation: { set_headers: [set('x-gateway-destination-endpoint-served', other), set('x-session-token', sessionToken(xp.gateway.datastore.endpoint(other)!))] } } },
      response: 'response_headers',
    });
    assert.equal(inFlight(picked), 0, 'a headers-only response (end_of_stream) ends the exchange');
    await ended(s);
  });
});

describe('BUFFERED', () => {
  const protocol = { request: 'BUFFERED', response: 'BUFFERED' } as const;

  test('headers answered at once; the pick comes with the body answer; one answer per response message', async () => {
    const s = client.open().send(requestHeaders(CHAT, false, { protocol }));
    assert.deepEqual(await s.next(), { request_headers: {}, response: 'request_headers' });
    s.send(requestBody(chat(QWEN), true));
    const r = await s.next();
    const picked = destination(r);
    assert.equal(picked, addr('qwen-0'));
    assert.deepEqual(r, {
      request_body: { response: { header_mutation: { set_headers: [set('x-gateway-model-name', QWEN), set('x-gateway-base-model-name', QWEN), set('x-gateway-destination-endpoint', picked)] } } },
      dynamic_metadata: lb(picked),
      response: 'request_body',
    });
    s.send(responseHeaders({ ':status': '200' }, false));
    assert.deepEqual(await s.next(), { response_headers: { response: { header_mutation: { set_headers: [set('x-gateway-destination-endpoint-served', picked)] } } }, response: 'response_headers' });
    s.send(responseBody('{"id":"x"}', true));
    assert.deepEqual(await s.next(), { response_body: {}, response: 'response_body' });
    assert.equal(inFlight(picked), 0);
    await ended(s);
  });

  test('InferenceModelRewrite: the rewritten model travels in a body mutation with its content-length', async () => {
    const s = client.open().send(requestHeaders(CHAT, false, { protocol }));
    await s.next();
    s.send(requestBody(chat('segment-lora'), true));
    const rewritten = Buffer.from(chat('segment-lora-v1'));
    assert.deepEqual(await s.next(), {
      request_body: {
        response: {
          header_mutation: {
            set_headers: [set('x-gateway-model-name', 'segment-lora'), set('x-gateway-base-model-name', QWEN), set('x-gateway-destination-endpoint', addr('qwen-0')), set('content-length', String(rewritten.length))],
          },
          body_mutation: { body: rewritten, mutation: 'body' },
        },
      },
      dynamic_metadata: lb(addr('qwen-0')),
      response: 'request_body',
    });
    await ended(s);
    assert.equal(inFlight(addr('qwen-0')), 0, 'the stream ending releases the pick');
  });
});

test('InferenceModelRewrite in FULL_DUPLEX_STREAMED: the streamed body carries the new model', async () => {
  const s = client.open().send(requestHeaders(CHAT, false, FULL_DUPLEX), ...requestBodyChunks(chat('segment-lora'), 8));
  const rewritten = Buffer.from(chat('segment-lora-v1'));
  assert.deepEqual(await s.next(), pickAnswer('segment-lora', QWEN, addr('qwen-0'), [set('content-length', String(rewritten.length))]));
  assert.deepEqual(await s.next(), echoed(rewritten, true));
  await ended(s);
});

describe('many pools, one picker', () => {
  test('without metadata the HTTPRoutes choose the pool from the base model, as the standalone gateway does', async () => {
    for (const [model, pods] of [[GEMMA, ['gemma-0', 'gemma-1']], [QWEN, ['qwen-0']]] as const) {
      const s = client.open().send(requestHeaders(CHAT, false, FULL_DUPLEX), requestBody(chat(model), true));
      assert.ok(pods.map(addr).includes(destination(await s.next())), model);
      await ended(s);
    }
  });

  test('per-route filter metadata (infergate.inference-pool) names the pool; no HTTPRoute needs to match', async () => {
    const s = client.open().send(requestHeaders({ ...CHAT, ':path': '/custom/generate' }, false, { ...FULL_DUPLEX, metadata: { infergate: { 'inference-pool': 'qwen' } } }), requestBody(chat(QWEN), true));
    assert.deepEqual(await s.next(), pickAnswer(QWEN, QWEN, addr('qwen-0')));
    await ended(s);
  });

  test('the ext_proc filter namespace and GKE (com.google.*) namespaces are read too, as namespace/name', async () => {
    for (const ns of ['envoy.filters.http.ext_proc', 'com.google.lb_route_extension.my-ext.chain1.epp']) {
      const s = client.open().send(requestHeaders({ ':method': 'GET', ':path': '/v1/models' }, true, { ...FULL_DUPLEX, metadata: { [ns]: { 'inference-pool': 'default/qwen' } } }));
      assert.deepEqual(await s.next(), {
        request_headers: { response: { header_mutation: { set_headers: [set('x-gateway-destination-endpoint', addr('qwen-0'))] } } },
        dynamic_metadata: lb(addr('qwen-0')),
        response: 'request_headers',
      }, ns);
      s.send(responseHeaders({ ':status': '200' }, true));
      await s.next();
      await ended(s);
    }
  });

  test('per-route gRPC initial metadata (x-infergate-inference-pool) names the pool', async () => {
    const s = client.open({ 'x-infergate-inference-pool': 'default/gemma' }).send(requestHeaders({ ...CHAT, ':path': '/other' }, false, FULL_DUPLEX), requestBody(chat(GEMMA), true));
    assert.ok([addr('gemma-0'), addr('gemma-1')].includes(destination(await s.next())));
    await ended(s);
  });

  test('a named pool that does not exist: 500 pool_not_found naming where the name came from', async () => {
    const s = client.open().send(requestHeaders(CHAT, false, { ...FULL_DUPLEX, metadata: { infergate: { 'inference-pool': 'default/nope' } } }), requestBody(chat(GEMMA), true));
    const r = await s.next();
    assert.equal(r.immediate_response?.status.code, 'InternalServerError');
    const err = JSON.parse(r.immediate_response!.body!.toString()) as { error: { code: string; message: string } };
    assert.equal(err.error.code, 'pool_not_found');
    assert.match(err.error.message, /filter metadata infergate\.inference-pool names InferencePool default\/nope.*pools: default\/busy, default\/down, default\/gemma, default\/qwen/);
  });
});

describe('envoy.lb.subset_hint', () => {
  const hint = (list: string[]): EnvoyMessageOptions => ({ ...FULL_DUPLEX, metadata: { 'envoy.lb.subset_hint': { 'x-gateway-destination-endpoint-subset': list } } });

  test('the pick is always inside the subset', async () => {
    for (let i = 0; i < 6; i++) {
      const s = client.open().send(requestHeaders(CHAT, false, hint([addr('gemma-1'), '10.9.9.9:8000'])), requestBody(chat(GEMMA), true));
      assert.equal(destination(await s.next()), addr('gemma-1'));
      await ended(s);
    }
  });

  for (const [name, list] of [['no listed endpoint is in the pool', ['10.9.9.9:8000']], ['the list is empty', []]] as const) {
    test(`503 when ${name}`, async () => {
      const s = client.open().send(requestHeaders(CHAT, false, hint([...list])), requestBody(chat(GEMMA), true));
      const r = await s.next();
      assert.equal(r.immediate_response?.status.code, 'ServiceUnavailable');
      const err = JSON.parse(r.immediate_response!.body!.toString()) as { error: { code: string; message: string } };
      assert.equal(err.error.code, 'no_healthy_endpoint');
      assert.match(err.error.message, /no endpoint of InferencePool default\/gemma is in the data plane's subset hint/);
    });
  }

  test('a client cannot steer the pick: x-gateway-destination-endpoint* headers it sent are removed or overwritten', async () => {
    const s = client.open().send(requestHeaders({ ...CHAT, 'x-gateway-destination-endpoint-subset': '1.2.3.4:80', 'x-gateway-destination-endpoint': '1.2.3.4:80' }, false, FULL_DUPLEX), requestBody(chat(QWEN), true));
    assert.deepEqual(await s.next(), pickAnswer(QWEN, QWEN, addr('qwen-0'), [], ['x-gateway-destination-endpoint-subset']));
    await ended(s);
  });
});

describe('cannot pick: immediate responses with the standalone gateway\'s status and body', () => {
  async function gatewayAnswer(body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, json: await res.json() };
  }

  test('503 no_healthy_endpoint for a pool without a ready pod', async () => {
    const expected = await gatewayAnswer(chat('down/model'));
    assert.equal(expected.status, 503);
    const s = client.open().send(requestHeaders(CHAT, false, FULL_DUPLEX), requestBody(chat('down/model'), true));
    const r = await s.next();
    const body = r.immediate_response!.body!;
    assert.deepEqual(JSON.parse(body.toString()), expected.json);
    // The pod may become Ready: retry-after, as the standalone gateway answers.
    assert.deepEqual(r, { immediate_response: { status: { code: 'ServiceUnavailable' }, headers: { set_headers: [set('content-type', 'application/json'), set('retry-after', '1')] }, body, details: 'infergate_no_healthy_endpoint' }, response: 'immediate_response' });
    assert.equal((await s.status).code, status.OK);
  });

  test('404 route_not_found when no HTTPRoute matches and no pool is named', async () => {
    const expected = await gatewayAnswer(chat(GEMMA));
    assert.equal(expected.status, 200, 'sanity: the gateway serves gemma');
    const s = client.open().send(requestHeaders({ ':method': 'GET', ':path': '/v1/models' }, true, FULL_DUPLEX));
    const r = await s.next();
    assert.equal(r.immediate_response?.status.code, 'NotFound');
    assert.equal((JSON.parse(r.immediate_response!.body!.toString()) as { error: { code: string } }).error.code, 'route_not_found');
  });

  test('403 admin_path_blocked for a vLLM admin path, however it is spelled, before any pick', async () => {
    for (const path of ['/v1/unload_lora_adapter', '/v1/%2e%2e/sleep?level=1']) {
      const s = client.open().send(requestHeaders({ ...CHAT, ':path': path }, false, FULL_DUPLEX), requestBody('{"lora_name":"gemma-sql-lora"}', true));
      const r = await s.next();
      assert.equal(r.immediate_response?.status.code, 'Forbidden', path);
      assert.equal((JSON.parse(r.immediate_response!.body!.toString()) as { error: { code: string } }).error.code, 'admin_path_blocked', path);
    }
  });

  test('429 request_shed for a sheddable request when the pool is saturated', async () => {
    const sim = fleet.sims.get('busy-0')!;
    // One slot and seven 40-token requests straight to the pod: six wait, over the saturation threshold of 5.
    const load = Array.from({ length: 7 }, () => fetch(`${sim.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: BUSY, prompt: 'long', max_tokens: 40 }) }).then((r) => r.text()));
    const ep = xp.gateway.datastore.endpoint(addr('busy-0'))!;
    try {
      assert.ok(await waitFor(() => (ep.metrics?.waitingQueueSize ?? 0) >= 5, 3000), `waiting never reached 5: ${JSON.stringify(ep.metrics)}`);
      const s = client.open().send(requestHeaders({ ...CHAT, 'x-gateway-inference-objective': 'batch' }, false, FULL_DUPLEX), requestBody(chat(BUSY), true));
      const r = await s.next();
      assert.equal(r.immediate_response?.status.code, 'TooManyRequests');
      assert.equal(r.immediate_response?.details, 'infergate_request_shed');
      const err = JSON.parse(r.immediate_response!.body!.toString()) as { error: { code: string; type: string; message: string } };
      assert.equal(err.error.type, 'rate_limit_error');
      assert.match(err.error.message, /InferencePool default\/busy is saturated/);
      // A request of priority 0 still gets its pick.
      const ok = client.open().send(requestHeaders(CHAT, false, FULL_DUPLEX), requestBody(chat(BUSY), true));
      assert.equal(destination(await ok.next()), addr('busy-0'));
      await ended(ok);
    } finally {
      await Promise.all(load);
    }
  });
});

describe('client cancels mid-stream', () => {
  test('after the pick, before the response: the in-flight count is released', async () => {
    const s = client.open().send(requestHeaders(CHAT, false, FULL_DUPLEX), requestBody(chat(QWEN), true));
    const picked = destination(await s.next());
    assert.equal(inFlight(picked), 1);
    s.cancel();
    assert.ok(await waitFor(() => inFlight(picked) === 0, 2000), 'in-flight count not released after cancel');
    assert.equal((await s.status).code, status.CANCELLED);
  });

  test('while the response streams: released too', async () => {
    const s = client.open().send(requestHeaders(CHAT, false, FULL_DUPLEX), requestBody(chat(QWEN), true));
    const picked = destination(await s.next());
    await s.next();
    s.send(responseHeaders({ ':status': '200' }, false), responseBody('data: 1\n\n', false));
    await s.next();
    await s.next();
    assert.equal(inFlight(picked), 1);
    s.cancel();
    assert.ok(await waitFor(() => inFlight(picked) === 0, 2000));
  });

  test('while the body is still arriving: nothing was picked, the stream is counted as cancelled', async () => {
    const before = xp.metrics.requests('epp', 'cancelled');
    const s = client.open().send(requestHeaders(CHAT, false, FULL_DUPLEX), requestBody('{"model":', false));
    await new Promise((r) => setTimeout(r, 30));
    s.cancel();
    assert.ok(await waitFor(() => xp.metrics.requests('epp', 'cancelled') === before + 1, 2000));
    assert.equal(xp.metrics.activeStreams('epp'), 0);
    for (const pod of ['gemma-0', 'gemma-1', 'qwen-0', 'busy-0']) assert.equal(inFlight(addr(pod)), 0, pod);
  });
});

test('the pick latency histogram and outcomes are exported', async () => {
  const text = await (await fetch(`http://127.0.0.1:${xp.ports.metrics}/metrics`)).text();
  assert.match(text, /^infergate_extproc_requests_total\{processor="epp",outcome="ok"\} [1-9]\d*$/m);
  assert.match(text, /^infergate_extproc_requests_total\{processor="epp",outcome="request_shed"\} 1$/m);
  assert.match(text, /^infergate_extproc_pick_duration_seconds_count [1-9]\d*$/m);
  // The picker's requests in llm-d's series too: scheduled ones in request_total, the shed one as an error.
  assert.match(text, new RegExp(`^llm_d_epp_request_total\\{[^}]*model_name="${QWEN.replace(/[/.]/g, '\\$&')}"[^}]*\\} [1-9]\\d*$`, 'm'));
  assert.match(text, /^llm_d_epp_request_error_total\{[^}]*error_code="ResourceExhausted"[^}]*\} 1$/m);
});

test('GET /debug/scheduling on the metrics port shows recent picks with every plugin\'s scores, newest first', async () => {
  const s = client.open().send(requestHeaders({ ...CHAT, 'x-request-id': 'debug-me' }, false, { protocol: { request: 'BUFFERED', response: 'BUFFERED' } }));
  await s.next();
  s.send(requestBody(chat(QWEN), true));
  const picked = destination(await s.next());
  s.send(responseHeaders({ ':status': '200' }, false));
  await s.next();
  s.send(responseBody('{}', true));
  await s.next();
  await ended(s);
  const res = await fetch(`http://127.0.0.1:${xp.ports.metrics}/debug/scheduling?limit=1`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { capacity: number; decisions: { requestId: string; picked: string | null; pool: string; model: string | null; profiles: { scorers?: unknown[] }[] }[] };
  assert.equal(body.capacity, 50);
  assert.equal(body.decisions.length, 1);
  const d = body.decisions[0]!;
  assert.equal(d.requestId, 'debug-me');
  assert.equal(d.picked, picked);
  assert.equal(d.model, QWEN);
  assert.ok(d.pool.length > 0);
  assert.ok(d.profiles.length > 0, 'the scheduling profile trace is there');
});
