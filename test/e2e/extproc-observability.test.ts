/**
 * Envoy's `observability_mode` ("send and go"): every message comes without waiting for an answer, and Envoy
 * supports only the STREAMED body mode there (or NONE). Replayed over real gRPC against the picker's four pools
 * of simulated vLLM pods on 127.0.182.x (test/helpers/extproc-epp.ts); no Envoy binary runs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { requestBodyChunks, requestHeaders, responseBody, responseHeaders, type ExtProcClient } from '../../src/extproc/ext-proc-client.js';
import type { ProcessingRequest } from '../../src/envoy/processing-messages.js';
import { CHAT, QWEN, chat, startEppEnv, type EppEnv } from '../helpers/extproc-epp.js';

let env: EppEnv;
let client: ExtProcClient;
before(async () => {
  env = await startEppEnv(182);
  ({ client } = env);
});

after(() => env?.close());

/** Envoy marks every message of an observed stream. */
const observed = (m: ProcessingRequest): ProcessingRequest => ({ ...m, observability_mode: true });

test('an observed stream in STREAMED mode (the body mode observability_mode supports) is picked and counted, and answered with nothing', async () => {
  // It ended with FAILED_PRECONDITION (STREAMED refused) though nothing is answered in this mode, so a shadow
  // picker saw no request at all and each stream counted as a protocol error.
  const picked = (await fetch(`http://127.0.0.1:${env.xp.ports.admin}/debug/scheduling`).then((r) => r.json())) as { decisions: unknown[] };
  const before = picked.decisions.length;
  const s = client.open().send(
    ...[
      requestHeaders(CHAT, false, { protocol: { request: 'STREAMED', response: 'STREAMED' }, metadata: { infergate: { 'inference-pool': 'qwen' } } }),
      ...requestBodyChunks(chat(QWEN), 16),
      responseHeaders({ ':status': '200', 'content-type': 'application/json' }, false),
      responseBody('{"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}', true),
    ].map(observed),
  );
  s.end();
  const st = await s.status;
  assert.equal(st.code, status.OK, st.details);
  assert.deepEqual(s.pending(), [], 'nothing is answered in observability mode');
  const after = (await fetch(`http://127.0.0.1:${env.xp.ports.admin}/debug/scheduling`).then((r) => r.json())) as { decisions: { pool: string; model: string }[] };
  assert.equal(after.decisions.length, before + 1, 'the request was picked (as a shadow)');
  assert.equal(after.decisions[0]?.model, QWEN);
  assert.equal(env.inFlight(env.addr('qwen-0')), 0, 'its in-flight count released at the end');
  const metrics = await fetch(`http://127.0.0.1:${env.xp.ports.admin}/metrics`).then((r) => r.text());
  assert.match(metrics, /infergate_extproc_requests_total\{processor="epp",outcome="ok"\} 1\b/);
  assert.doesNotMatch(metrics, /outcome="protocol_error"/);
});

test('outside observability_mode STREAMED is still refused, naming the modes that work', async () => {
  const s = client.open().send(requestHeaders(CHAT, false, { protocol: { request: 'STREAMED' } }));
  const st = await s.status;
  assert.equal(st.code, status.FAILED_PRECONDITION);
  assert.match(st.details, /FULL_DUPLEX_STREAMED/);
});
