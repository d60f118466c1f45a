/**
 * The endpoint picker's ext_proc server when it cannot pick (immediate responses with the standalone gateway's
 * status and body), and what it reports: its metrics and GET /debug/scheduling. Simulated vLLM pods on
 * 127.0.127.x (test/helpers/extproc-epp.ts). No Envoy binary runs here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { requestBody, requestHeaders, responseBody, responseHeaders, type ExtProcClient } from '../../src/extproc/ext-proc-client.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { ended } from '../helpers/extproc.js';
import { BUSY, CHAT, FULL_DUPLEX, GEMMA, QWEN, chat, destination, set, startEppEnv, type EppEnv } from '../helpers/extproc-epp.js';
import { waitFor, type Fleet } from '../helpers/fleet.js';

let env: EppEnv;
let xp: RunningExtproc;
let gw: RunningGateway;
let fleet: Fleet;
let client: ExtProcClient;
let addr: (pod: string) => string;
before(async () => {
  env = await startEppEnv(127);
  ({ xp, gw, fleet, client, addr } = env);
});

after(() => env?.close());

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

test('the pick latency histogram and outcomes are exported', async () => {
  const text = await (await fetch(`http://127.0.0.1:${xp.ports.metrics}/metrics`)).text();
  assert.match(text, /^infergate_extproc_requests_total\{processor="epp",outcome="ok"\} [1-9]\d*$/m);
  assert.match(text, /^infergate_extproc_requests_total\{processor="epp",outcome="request_shed"\} 1$/m);
  assert.match(text, /^infergate_extproc_pick_duration_seconds_count [1-9]\d*$/m);
  // The picker's requests in llm-d's series too: scheduled ones in request_total, the shed one as an error.
  assert.match(text, new RegExp(`^llm_d_epp_request_total\\{[^}]*model_name="${QWEN.replace(/[/.]/g, '\\$&')}"[^}]*\\} [1-9]\\d*$`, 'm'));
  assert.match(text, /^llm_d_epp_request_error_total\{[^}]*error_code="ResourceExhausted"[^}]*\} 1$/m);
});
