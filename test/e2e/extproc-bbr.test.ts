/**
 * The body-based router's ext_proc server, driven by a gRPC client that replays the message sequences
 * Envoy sends in each body mode; every field of every answer is checked. No Envoy binary runs here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { allowlistYaml } from '../../src/config/manifests.js';
import { ExtProcClient, HealthClient, requestBody, requestBodyChunks, requestHeaders, requestTrailers, type ProcessingStreamClient } from '../../src/extproc/ext-proc-client.js';
import type { ProcessingResponse } from '../../src/envoy/processing-messages.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { ended, startTestExtproc } from '../helpers/extproc.js';
import { startTestGateway, tempConfig, waitFor, type TempConfig } from '../helpers/fleet.js';

const GEMMA = 'google/gemma-2b-it';
const MAX_BODY = 256 * 1024;

let cfg: TempConfig;
let xp: RunningExtproc;
let gw: RunningGateway;
let client: ExtProcClient;

before(async () => {
  cfg = await tempConfig({ 'allowlists.yaml': allowlistYaml('gemma', GEMMA, ['gemma-sql-lora']) });
  xp = await startTestExtproc({ configPath: cfg.dir, maxBodyBytes: MAX_BODY });
  // The standalone gateway on the same configuration: ext_proc errors must match its answers.
  gw = await startTestGateway(cfg.dir, { maxBodyBytes: MAX_BODY });
  client = new ExtProcClient(`127.0.0.1:${xp.ports.bbr}`);
});

after(async () => {
  client?.close();
  await xp?.close();
  await gw?.close();
  await cfg?.remove();
});

const CHAT = { ':method': 'POST', ':path': '/v1/chat/completions', ':authority': 'gw.example', 'content-type': 'application/json' };
const chat = (model: unknown): string => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });

/** A set_headers entry exactly as decoded. */
const set = (key: string, value: string): unknown => ({ header: { key, raw_value: Buffer.from(value) }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
const routing = (model: string, base: string): unknown[] => [set('x-gateway-model-name', model), set('x-gateway-base-model-name', base)];

/** Nothing may be answered yet: waits a little and checks the client received nothing. */
async function assertSilent(s: ProcessingStreamClient): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(s.pending(), [], 'the server answered before it had the whole body');
}

describe('headers-only requests', () => {
  test('a GET has no model: no mutation, no route refresh', async () => {
    const s = client.open().send(requestHeaders({ ':method': 'GET', ':path': '/v1/models' }, true, { protocol: { request: 'FULL_DUPLEX_STREAMED' } }));
    assert.deepEqual(await s.next(), { request_headers: {}, response: 'request_headers' });
    await ended(s);
  });

  test('in any body mode (NONE, STREAMED): the mode does not matter without a body, so it is answered, not refused', async () => {
    for (const request of ['NONE', 'STREAMED'] as const) {
      const s = client.open().send(requestHeaders({ ':method': 'GET', ':path': '/v1/models', 'x-gateway-model-name': 'x' }, true, { protocol: { request } }));
      assert.deepEqual(await s.next(), { request_headers: { response: { header_mutation: { remove_headers: ['x-gateway-model-name'] }, clear_route_cache: true } }, response: 'request_headers' }, request);
      await ended(s);
    }
  });

  test('a request on a stored response passes unchanged: the server sees no answers, so no response ids', async () => {
    // Each was refused with 404 response_not_found naming --max-response-ids, a flag extproc does not have.
    for (const [method, path] of [['GET', '/v1/responses/resp_abc'], ['DELETE', '/v1/responses/resp_abc'], ['POST', '/v1/responses/resp_abc/cancel']]) {
      const s = client.open().send(requestHeaders({ ':method': method!, ':path': path! }, true, { protocol: { request: 'FULL_DUPLEX_STREAMED' } }));
      assert.deepEqual(await s.next(), { request_headers: {}, response: 'request_headers' }, `${method} ${path}`);
      await ended(s);
    }
  });

  test('routing headers a client sent are removed, and routes matched again', async () => {
    const s = client.open().send(requestHeaders({ ':method': 'GET', ':path': '/v1/models', 'x-gateway-base-model-name': GEMMA, 'x-gateway-model-name': 'x' }, true));
    assert.deepEqual(await s.next(), {
      request_headers: { response: { header_mutation: { remove_headers: ['x-gateway-base-model-name', 'x-gateway-model-name'] }, clear_route_cache: true } },
      response: 'request_headers',
    });
    await ended(s);
  });
});

describe('BUFFERED', () => {
  const protocol = { request: 'BUFFERED' as const };

  test('headers are answered at once; the routing headers come with the body answer', async () => {
    const s = client.open().send(requestHeaders({ ...CHAT, 'x-gateway-base-model-name': 'spoofed' }, false, { protocol }));
    assert.deepEqual(await s.next(), { request_headers: {}, response: 'request_headers' });
    s.send(requestBody(chat('gemma-sql-lora'), true));
    // The client's copy is overwritten (OVERWRITE_IF_EXISTS_OR_ADD), so nothing needs removing.
    assert.deepEqual(await s.next(), { request_body: { response: { header_mutation: { set_headers: routing('gemma-sql-lora', GEMMA) }, clear_route_cache: true } }, response: 'request_body' });
    await ended(s);
  });

  test('a model with surrounding spaces is trimmed in the body too, with its new content-length', async () => {
    const s = client.open().send(requestHeaders(CHAT, false, { protocol }));
    await s.next();
    s.send(requestBody(chat(` ${GEMMA} `), true));
    const trimmed = Buffer.from(chat(GEMMA));
    assert.deepEqual(await s.next(), {
      request_body: {
        response: {
          header_mutation: { set_headers: [...routing(GEMMA, GEMMA), set('content-length', String(trimmed.length))] },
          body_mutation: { body: trimmed, mutation: 'body' },
          clear_route_cache: true,
        },
      },
      response: 'request_body',
    });
    await ended(s);
  });

  test('trailers after the body: the body is answered, then the trailers', async () => {
    const s = client.open().send(requestHeaders(CHAT, false, { protocol }));
    await s.next();
    s.send(requestBody(chat(GEMMA), false));
    assert.deepEqual(await s.next(), { request_body: { response: { header_mutation: { set_headers: routing(GEMMA, GEMMA) }, clear_route_cache: true } }, response: 'request_body' });
    s.send(requestTrailers({ 'x-checksum': 'abc' }));
    assert.deepEqual(await s.next(), { request_trailers: {}, response: 'request_trailers' });
    await ended(s);
  });
});

describe('FULL_DUPLEX_STREAMED', () => {
  const protocol = { request: 'FULL_DUPLEX_STREAMED' as const };

  test('a body in many chunks: nothing until end_of_stream, then headers, then the body in chunks of at most 62,000 bytes', async () => {
    const body = Buffer.from(JSON.stringify({ model: 'gemma-sql-lora', prompt: 'p'.repeat(130_000) }));
    const chunks = requestBodyChunks(body, 16 * 1024);
    const s = client.open().send(requestHeaders({ ...CHAT, 'x-gateway-model-name': 'spoofed' }, false, { protocol }), ...chunks.slice(0, -1));
    await assertSilent(s);
    s.send(chunks.at(-1)!);
    assert.deepEqual(await s.next(), { request_headers: { response: { header_mutation: { set_headers: routing('gemma-sql-lora', GEMMA) }, clear_route_cache: true } }, response: 'request_headers' });
    const sizes: number[] = [];
    const back: Buffer[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await s.next();
      const last = i === 2;
      const streamed = r.request_body?.response?.body_mutation?.streamed_response;
      assert.ok(streamed?.body);
      assert.deepEqual(r, { request_body: { response: { body_mutation: { streamed_response: { body: streamed.body, ...(last ? { end_of_stream: true } : {}) }, mutation: 'streamed_response' } } }, response: 'request_body' });
      sizes.push(streamed.body.length);
      back.push(streamed.body);
    }
    assert.deepEqual(sizes, [62_000, 62_000, body.length - 124_000]);
    assert.ok(Buffer.concat(back).equals(body), 'the body comes back unchanged');
    await ended(s);
  });

  test('trailers end the body: headers, the body without end_of_stream, then the trailers answer', async () => {
    const body = chat(GEMMA);
    const s = client.open().send(requestHeaders(CHAT, false, { protocol }), ...requestBodyChunks(body, 7, false));
    await assertSilent(s);
    s.send(requestTrailers({ 'x-checksum': 'abc' }));
    assert.deepEqual(await s.next(), { request_headers: { response: { header_mutation: { set_headers: routing(GEMMA, GEMMA) }, clear_route_cache: true } }, response: 'request_headers' });
    assert.deepEqual(await s.next(), { request_body: { response: { body_mutation: { streamed_response: { body: Buffer.from(body) }, mutation: 'streamed_response' } } }, response: 'request_body' });
    assert.deepEqual(await s.next(), { request_trailers: {}, response: 'request_trailers' });
    await ended(s);
  });

  test('a trimmed model is re-sent as the new body, with its content-length', async () => {
    const s = client.open().send(requestHeaders(CHAT, false, { protocol }), ...requestBodyChunks(chat(`  ${GEMMA}`), 5));
    const trimmed = Buffer.from(chat(GEMMA));
    assert.deepEqual(await s.next(), {
      request_headers: { response: { header_mutation: { set_headers: [...routing(GEMMA, GEMMA), set('content-length', String(trimmed.length))] }, clear_route_cache: true } },
      response: 'request_headers',
    });
    assert.deepEqual(await s.next(), { request_body: { response: { body_mutation: { streamed_response: { body: trimmed, end_of_stream: true }, mutation: 'streamed_response' } } }, response: 'request_body' });
    await ended(s);
  });

  test('without protocol_config (older Envoy) the server assumes FULL_DUPLEX_STREAMED', async () => {
    const s = client.open().send(requestHeaders(CHAT, false), requestBody(chat(GEMMA), true));
    assert.equal((await s.next()).response, 'request_headers');
    assert.equal((await s.next()).response, 'request_body');
    await ended(s);
  });
});

describe('errors: the standalone gateway\'s status and OpenAI body, as an immediate_response', () => {
  const statusName: Record<number, string> = { 400: 'BadRequest', 404: 'NotFound', 413: 'PayloadTooLarge' };

  async function gatewayAnswer(body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, json: await res.json() };
  }

  function assertImmediate(r: ProcessingResponse, expected: { status: number; json: unknown }, code: string): void {
    const body = r.immediate_response?.body;
    assert.ok(body, JSON.stringify(r));
    assert.deepEqual(JSON.parse(body.toString()), expected.json);
    assert.deepEqual(r, {
      immediate_response: {
        status: { code: statusName[expected.status] },
        headers: { set_headers: [set('content-type', 'application/json')] },
        body,
        details: `infergate_${code}`,
      },
      response: 'immediate_response',
    });
  }

  const cases: [string, string, number, string][] = [
    ['not JSON', '{"model": "goo', 400, 'invalid_json'],
    ['no model', '{"prompt":"hi"}', 400, 'missing_model'],
    ['model not a string', '{"model":42}', 400, 'missing_model'],
    ['unknown model', chat('no-such-model'), 404, 'model_not_found'],
  ];
  for (const [name, body, code, errorCode] of cases) {
    for (const mode of ['FULL_DUPLEX_STREAMED', 'BUFFERED'] as const) {
      test(`${name} -> ${code} ${errorCode} (${mode})`, async () => {
        const expected = await gatewayAnswer(body);
        assert.equal(expected.status, code);
        const s = client.open().send(requestHeaders(CHAT, false, { protocol: { request: mode } }));
        if (mode === 'BUFFERED') await s.next();
        s.send(...requestBodyChunks(body, mode === 'BUFFERED' ? body.length : 4));
        assertImmediate(await s.next(), expected, errorCode);
        // The server ends the stream after an immediate response.
        assert.equal((await s.status).code, status.OK);
      });
    }
  }

  test('413 from the declared content-length, before any body', async () => {
    const big = 'x'.repeat(MAX_BODY + 1);
    const expected = await gatewayAnswer(big);
    assert.equal(expected.status, 413);
    const s = client.open().send(requestHeaders({ ...CHAT, 'content-length': String(big.length) }, false, { protocol: { request: 'FULL_DUPLEX_STREAMED' } }));
    assertImmediate(await s.next(), expected, 'request_too_large');
    assert.equal((await s.status).code, status.OK);
  });

  test('413 as soon as the chunks pass --max-body-bytes (no content-length)', async () => {
    const expected = { status: 413, json: { error: { message: `request body exceeds the gateway's limit of ${MAX_BODY} bytes (--max-body-bytes)`, type: 'invalid_request_error', param: null, code: 'request_too_large' } } };
    // Valid JSON as far as it goes (an open string), so that the size, not the syntax, is what refuses it.
    const s = client.open().send(requestHeaders(CHAT, false, { protocol: { request: 'FULL_DUPLEX_STREAMED' } }), ...requestBodyChunks(`{"model":"m","prompt":"${'x'.repeat(MAX_BODY + 10)}`, 64 * 1024, false));
    assertImmediate(await s.next(), expected, 'request_too_large');
    assert.equal((await s.status).code, status.OK);
  });

  test('a body mode that cannot work (STREAMED) fails the stream with FAILED_PRECONDITION, naming the fix', async () => {
    const s = client.open().send(requestHeaders(CHAT, false, { protocol: { request: 'STREAMED' } }));
    const st = await s.status;
    assert.equal(st.code, status.FAILED_PRECONDITION);
    assert.match(st.details, /request_body_mode FULL_DUPLEX_STREAMED .* or BUFFERED.*sends STREAMED/);
  });
});

describe('health and metrics', () => {
  test('gRPC health: every service SERVING on the health port and on the ext_proc port, other names too (as readiness)', async () => {
    for (const port of [xp.ports.health, xp.ports.bbr]) {
      const h = new HealthClient(`127.0.0.1:${port}`);
      try {
        // `inference-extension`: what GIE's and llm-d's charts probe; their EPP answers every name.
        for (const service of ['', 'liveness', 'readiness', 'envoy.service.ext_proc.v3.ExternalProcessor', 'inference-extension']) assert.equal(await h.check(service), 'SERVING', `${service} on ${port}`);
      } finally {
        h.close();
      }
    }
  });

  test('readiness goes NOT_SERVING (liveness stays) when the server stops taking requests; Watch reports each change', async () => {
    const h = new HealthClient(`127.0.0.1:${xp.ports.health}`);
    const seen: string[] = [];
    const stop = h.watch('readiness', (s) => seen.push(s));
    // A name the server does not know (GIE's charts probe `inference-extension`) follows readiness, Watch included.
    const seenOther: string[] = [];
    const stopOther = h.watch('inference-extension', (s) => seenOther.push(s));
    try {
      assert.ok(await waitFor(() => seen.length === 1 && seenOther.length === 1));
      xp.health.setReady(false);
      assert.equal(await h.check('readiness'), 'NOT_SERVING');
      assert.equal(await h.check('envoy.service.ext_proc.v3.ExternalProcessor'), 'NOT_SERVING');
      assert.equal(await h.check('inference-extension'), 'NOT_SERVING');
      assert.equal(await h.check('liveness'), 'SERVING');
      assert.equal(await h.check(''), 'SERVING');
      xp.health.setReady(true);
      assert.ok(await waitFor(() => seen.length === 3 && seenOther.length === 3), JSON.stringify([seen, seenOther]));
      assert.deepEqual(seen, ['SERVING', 'NOT_SERVING', 'SERVING']);
      assert.deepEqual(seenOther, ['SERVING', 'NOT_SERVING', 'SERVING']);
    } finally {
      xp.health.setReady(true);
      stop();
      stopOther();
      h.close();
    }
  });

  test('Prometheus metrics count requests by processor and outcome', async () => {
    const text = await (await fetch(`http://127.0.0.1:${xp.ports.metrics}/metrics`)).text();
    assert.match(text, /^infergate_extproc_requests_total\{processor="bbr",outcome="ok"\} [1-9]\d*$/m);
    assert.match(text, /^infergate_extproc_requests_total\{processor="bbr",outcome="model_not_found"\} 2$/m);
    assert.match(text, /^infergate_extproc_requests_total\{processor="bbr",outcome="protocol_error"\} 1$/m);
    assert.match(text, /^# TYPE infergate_extproc_pick_duration_seconds histogram$/m);
  });
});

test('--secure-serving: TLS with a self-signed certificate made at startup; plaintext clients are refused', async () => {
  const tls = await startTestExtproc({ configPath: cfg.dir, secureServing: true });
  const secure = new ExtProcClient(`127.0.0.1:${tls.ports.bbr}`, { rootCert: tls.certificate!.cert });
  const plain = new ExtProcClient(`127.0.0.1:${tls.ports.bbr}`);
  try {
    assert.match(tls.certificate!.cert, /^-----BEGIN CERTIFICATE-----/);
    const s = secure.open().send(requestHeaders(CHAT, false), requestBody(chat(GEMMA), true));
    assert.deepEqual(await s.next(), { request_headers: { response: { header_mutation: { set_headers: routing(GEMMA, GEMMA) }, clear_route_cache: true } }, response: 'request_headers' });
    await s.next();
    await ended(s);
    const p = plain.open().send(requestHeaders(CHAT, true));
    assert.equal((await p.status).code, status.UNAVAILABLE);
    // Health stays plaintext: Kubernetes gRPC probes do not speak TLS.
    const h = new HealthClient(`127.0.0.1:${tls.ports.health}`);
    assert.equal(await h.check('readiness'), 'SERVING');
    h.close();
  } finally {
    secure.close();
    plain.close();
    await tls.close();
  }
});
