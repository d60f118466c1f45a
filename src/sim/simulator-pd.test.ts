/** P/D's NIXL connector in the simulator: a prefill leg answers where its KV is; a decode leg takes it and answers as usual. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, testSimulator } from './test-kit.js';

const HOST = '127.0.224.29';

test('do_remote_decode answers kv_transfer_params naming this engine; do_remote_prefill is accepted; a malformed one is 400', async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 0 });
  const messages = [{ role: 'user', content: 'x'.repeat(400) }];
  const leg = { do_remote_decode: true, do_remote_prefill: false, remote_engine_id: null, remote_block_ids: null, remote_host: null, remote_port: null };
  const res = await postJson(sim, '/v1/chat/completions', { model: 'base-model', messages, max_tokens: 1, stream: false, kv_transfer_params: leg });
  assert.equal(res.status, 200);
  const prefill = (await res.json()) as { kv_transfer_params: Record<string, unknown>; usage: { completion_tokens: number } };
  assert.equal(prefill.usage.completion_tokens, 1);
  const kv = prefill.kv_transfer_params;
  assert.equal(kv.do_remote_prefill, true);
  assert.equal(kv.do_remote_decode, false);
  assert.equal(kv.remote_host, HOST);
  assert.equal(kv.remote_port, sim.port);
  assert.ok(Array.isArray(kv.remote_block_ids) && kv.remote_block_ids.length > 0);

  const decode = await postJson(sim, '/v1/chat/completions', { model: 'base-model', messages, max_tokens: 3, kv_transfer_params: kv });
  assert.equal(decode.status, 200);
  const body = (await decode.json()) as Record<string, unknown>;
  assert.equal('kv_transfer_params' in body, false, 'only a prefill leg answers them');

  const plain = await postJson(sim, '/v1/chat/completions', { model: 'base-model', messages, max_tokens: 1 });
  assert.equal('kv_transfer_params' in ((await plain.json()) as object), false);
  const bad = await postJson(sim, '/v1/chat/completions', { model: 'base-model', messages, kv_transfer_params: 'yes' });
  assert.equal(bad.status, 400);
});
