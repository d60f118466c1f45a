/**
 * The endpoint picker's ext_proc server driven by a gRPC client that replays Envoy's message sequences:
 * the request and response phases in FULL_DUPLEX_STREAMED and BUFFERED, and a client that cancels mid-stream;
 * every field of every answer is checked. Simulated vLLM pods on 127.0.45.x (test/helpers/extproc-epp.ts).
 * Choosing the pool and endpoint: extproc-epp-pools.test.ts; refusals and what the picker reports:
 * extproc-epp-refusals.test.ts. No Envoy binary runs here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { sessionToken } from '../../src/epp/plugins/session/session-token.js';
import { requestBody, requestBodyChunks, requestHeaders, requestTrailers, responseBody, responseHeaders, responseTrailers, type ExtProcClient } from '../../src/extproc/ext-proc-client.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { ended } from '../helpers/extproc.js';
import { CHAT, FULL_DUPLEX, GEMMA, QWEN, chat, destination, echoed, lb, pickAnswer, set, startEppEnv, type EppEnv } from '../helpers/extproc-epp.js';
import { waitFor } from '../helpers/fleet.js';

let env: EppEnv;
let xp: RunningExtproc;
let client: ExtProcClient;
let addr: (pod: string) => string;
let inFlight: (address: string) => number;
before(async () => {
  env = await startEppEnv(45);
  ({ xp, client, addr, inFlight } = env);
});

after(() => env?.close());

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

  test('a response streamed by another endpoint than the pick (the data plane went down the list) counts on that endpoint while it streams', async () => {
    // The pick kept the count for the whole response though it served nothing (Envoy had retried elsewhere),
    // so the picker saw load on the pod that failed and none on the one streaming.
    const s = client.open().send(requestHeaders(CHAT, false, FULL_DUPLEX), requestBody(chat(GEMMA), true));
    const picked = destination(await s.next());
    await s.next();
    const other = picked === addr('gemma-0') ? addr('gemma-1') : addr('gemma-0');
    assert.deepEqual([inFlight(picked), inFlight(other)], [1, 0]);
    s.send(responseHeaders({ ':status': '200', 'content-type': 'text/event-stream' }, false, { 'envoy.lb': { 'x-gateway-destination-endpoint-served': other } }));
    await s.next();
    const served = xp.gateway.datastore.endpoint(other)!;
    assert.deepEqual([inFlight(picked), inFlight(other), served.unanswered], [0, 1, 0], 'the streaming endpoint holds the count, answered');
    assert.equal(xp.gateway.datastore.endpoint(picked)!.unanswered, 0);
    s.send(responseBody('data: [DONE]\n\n', true));
    await s.next();
    assert.deepEqual([inFlight(picked), inFlight(other)], [0, 0], 'released once, where it was held');
    await ended(s);
    assert.deepEqual([inFlight(picked), inFlight(other)], [0, 0]);
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
      // clear_route_cache in the body answer too: Envoy honours it there while the headers have not gone upstream.
      request_body: { response: { header_mutation: { set_headers: [set('x-gateway-model-name', QWEN), set('x-gateway-base-model-name', QWEN), set('x-gateway-destination-endpoint', picked)] }, clear_route_cache: true } },
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
          clear_route_cache: true,
        },
      },
      dynamic_metadata: lb(addr('qwen-0')),
      response: 'request_body',
    });
    await ended(s);
    assert.equal(inFlight(addr('qwen-0')), 0, 'the stream ending releases the pick');
  });

  test("llm-d's x-llm-d-model-name-rewrite header: the named model travels in a body mutation, the routing headers keep the client's", async () => {
    const s = client.open().send(requestHeaders({ ...CHAT, 'x-llm-d-model-name-rewrite': 'segment-lora-v1' }, false, { protocol }));
    await s.next();
    s.send(requestBody(chat(QWEN), true));
    const rewritten = Buffer.from(chat('segment-lora-v1'));
    assert.deepEqual(await s.next(), {
      request_body: {
        response: {
          header_mutation: {
            set_headers: [set('x-gateway-model-name', QWEN), set('x-gateway-base-model-name', QWEN), set('x-gateway-destination-endpoint', addr('qwen-0')), set('content-length', String(rewritten.length))],
          },
          body_mutation: { body: rewritten, mutation: 'body' },
          clear_route_cache: true,
        },
      },
      dynamic_metadata: lb(addr('qwen-0')),
      response: 'request_body',
    });
    await ended(s);
  });
});

test('InferenceModelRewrite in FULL_DUPLEX_STREAMED: the streamed body carries the new model', async () => {
  const s = client.open().send(requestHeaders(CHAT, false, FULL_DUPLEX), ...requestBodyChunks(chat('segment-lora'), 8));
  const rewritten = Buffer.from(chat('segment-lora-v1'));
  assert.deepEqual(await s.next(), pickAnswer('segment-lora', QWEN, addr('qwen-0'), [set('content-length', String(rewritten.length))]));
  assert.deepEqual(await s.next(), echoed(rewritten, true));
  await ended(s);
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

