/**
 * The endpoint picker's ext_proc server for several pools at once: how the pool is chosen (HTTPRoutes, filter
 * and gRPC metadata) and how Envoy's subset hint bounds the pick. Simulated vLLM pods on 127.0.126.x
 * (test/helpers/extproc-epp.ts). No Envoy binary runs here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { requestBody, requestHeaders, requestTrailers, responseHeaders, type ExtProcClient, type EnvoyMessageOptions } from '../../src/extproc/ext-proc-client.js';
import { ended } from '../helpers/extproc.js';
import { CHAT, FULL_DUPLEX, GEMMA, QWEN, chat, destination, lb, pickAnswer, set, startEppEnv, type EppEnv } from '../helpers/extproc-epp.js';

let env: EppEnv;
let client: ExtProcClient;
let addr: (pod: string) => string;
before(async () => {
  env = await startEppEnv(126);
  ({ client, addr } = env);
});

after(() => env?.close());

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
        request_headers: { response: { header_mutation: { set_headers: [set('x-gateway-destination-endpoint', addr('qwen-0'))] }, clear_route_cache: true } },
        dynamic_metadata: lb(addr('qwen-0')),
        response: 'request_headers',
      }, ns);
      s.send(responseHeaders({ ':status': '200' }, true));
      await s.next();
      await ended(s);
    }
  });

  test("a headers-only request is picked whatever the filter's request_body_mode (NONE too), as GIE's EPP picks it at its headers", async () => {
    // It was refused with FAILED_PRECONDITION: the mode matters only for a body.
    for (const request of ['NONE', 'STREAMED', 'BUFFERED_PARTIAL'] as const) {
      const s = client.open().send(requestHeaders({ ':method': 'GET', ':path': '/v1/models' }, true, { protocol: { request }, metadata: { infergate: { 'inference-pool': 'qwen' } } }));
      assert.deepEqual(await s.next(), {
        request_headers: { response: { header_mutation: { set_headers: [set('x-gateway-destination-endpoint', addr('qwen-0'))] }, clear_route_cache: true } },
        dynamic_metadata: lb(addr('qwen-0')),
        response: 'request_headers',
      }, request);
      s.send(responseHeaders({ ':status': '200' }, true));
      assert.deepEqual(await s.next(), { response_headers: { response: { header_mutation: { set_headers: [set('x-gateway-destination-endpoint-served', addr('qwen-0'))] } } }, response: 'response_headers' });
      await ended(s);
    }
  });

  describe('BUFFERED, a request with trailers and no body', () => {
    const BUFFERED_QWEN: EnvoyMessageOptions = { protocol: { request: 'BUFFERED' }, metadata: { infergate: { 'inference-pool': 'qwen' } } };
    const picked = (phase: 'request_headers' | 'request_trailers'): unknown => ({
      [phase]: phase === 'request_headers' ? { response: { header_mutation: { set_headers: [set('x-gateway-destination-endpoint', addr('qwen-0'))] }, clear_route_cache: true } } : {},
      dynamic_metadata: lb(addr('qwen-0')),
      response: phase,
    });

    test('content-length: 0 says no body will come: picked at the headers, while their answer can still set the destination', async () => {
      // Its headers were answered empty, then the pick went in a trailers answer, where header mutations cannot go.
      const s = client.open().send(requestHeaders({ ':method': 'GET', ':path': '/v1/models', 'content-length': '0' }, false, BUFFERED_QWEN));
      assert.deepEqual(await s.next(), picked('request_headers'));
      s.send(requestTrailers({ 'x-checksum': '1' }));
      assert.deepEqual(await s.next(), { request_trailers: {}, response: 'request_trailers' });
      s.send(responseHeaders({ ':status': '200' }, true));
      assert.equal((await s.next()).response, 'response_headers');
      await ended(s);
    });

    test('without a length: the headers were answered already, so the pick goes in the trailers answer as envoy.lb metadata', async () => {
      const s = client.open().send(requestHeaders({ ':method': 'GET', ':path': '/v1/models' }, false, BUFFERED_QWEN));
      assert.deepEqual(await s.next(), { request_headers: {}, response: 'request_headers' });
      s.send(requestTrailers({ 'x-checksum': '1' }));
      assert.deepEqual(await s.next(), picked('request_trailers'));
      s.send(responseHeaders({ ':status': '200' }, true));
      assert.equal((await s.next()).response, 'response_headers');
      await ended(s);
    });
  });

  test('a request on a stored response is routed by the rules: the picker never sees the answers that would tell it the pod', async () => {
    // It was refused with 404 response_not_found naming --max-response-ids, a flag `extproc` does not have.
    for (const [method, path] of [['GET', '/v1/responses/resp_abc'], ['DELETE', '/v1/responses/resp_abc'], ['POST', '/v1/responses/resp_abc/cancel']]) {
      const s = client.open().send(requestHeaders({ ':method': method!, ':path': path!, ':authority': 'gw.example' }, true, { ...FULL_DUPLEX, metadata: { infergate: { 'inference-pool': 'qwen' } } }));
      const r = await s.next();
      assert.equal(r.immediate_response, undefined, `${method} ${path}: ${JSON.stringify(r.immediate_response?.body?.toString())}`);
      assert.equal(destination(r), addr('qwen-0'), `${method} ${path}`);
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

  test("nor a decode pod's routing sidecar: llm-d's prefill, encoder, data-parallel and KV-source headers it sent are removed", async () => {
    // llm-d's sidecar sends the prefill (or KV pull) to the address in these: a client must not choose it.
    const spoofed = ['x-prefiller-host-port', 'x-llm-d-prefiller-host-port', 'x-encoder-hosts-ports', 'x-llm-d-encoder-hosts-ports', 'x-data-parallel-host-port', 'x-kv-cache-source-host-port', 'x-llm-d-kv-cache-source-host-port'];
    const s = client.open().send(requestHeaders({ ...CHAT, ...Object.fromEntries(spoofed.map((h) => [h, '203.0.113.9:8000'])) }, false, FULL_DUPLEX), requestBody(chat(QWEN), true));
    assert.deepEqual(await s.next(), pickAnswer(QWEN, QWEN, addr('qwen-0'), [], spoofed));
    await ended(s);
  });
});

