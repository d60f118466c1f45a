/** vLLM's render endpoints on the simulator: the token ids the engine runs (and hashes in KV blocks), as a GenerateRequest. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, testSimulator } from './test-kit.js';

test('/v1/chat/completions/render answers vLLM\'s GenerateRequest with the chat\'s prompt ids', async (t) => {
  const sim = await testSimulator(t, { loras: ['a'] });
  const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }];
  const res = await postJson(sim, '/v1/chat/completions/render', { model: 'a', messages, max_tokens: 7, temperature: 0, frequency_penalty: 1.1, stream: true, stream_options: { include_usage: true }, cache_salt: 's' });
  assert.equal(res.status, 200);
  const body = (await res.json()) as Record<string, unknown>;
  const tokenize = (await (await postJson(sim, '/tokenize', { model: 'a', messages })).json()) as { tokens: number[] };
  assert.deepEqual(body.token_ids, tokenize.tokens);
  assert.match(body.request_id as string, /^chatcmpl-[0-9a-f]{32}$/);
  assert.deepEqual({ ...body, request_id: '' }, {
    request_id: '', token_ids: tokenize.tokens, features: null,
    sampling_params: { n: 1, presence_penalty: 0, frequency_penalty: 1.1, repetition_penalty: 1, temperature: 0, top_p: 1, seed: null, max_tokens: 7 },
    model: 'a', stream: true, stream_options: { include_usage: true }, cache_salt: 's', priority: 0, kv_transfer_params: null,
  });
});

test('/v1/completions/render renders each prompt (text or token ids); errors as vLLM', async (t) => {
  const sim = await testSimulator(t);
  const res = await postJson(sim, '/v1/completions/render', { model: 'base-model', prompt: ['abcdefgh', 'xy'] });
  assert.equal(res.status, 200);
  const body = (await res.json()) as Array<{ token_ids: number[]; request_id: string; sampling_params: { max_tokens: number } }>;
  assert.equal(body.length, 2);
  assert.equal(body[0]!.token_ids.length, 2);
  assert.match(body[0]!.request_id, /^cmpl-/);
  assert.ok(body[1]!.sampling_params.max_tokens > 0, 'what is left of the context');
  const ids = (await (await postJson(sim, '/v1/completions/render', { model: 'base-model', prompt: [5, 6, 7] })).json()) as Array<{ token_ids: number[] }>;
  assert.deepEqual(ids[0]!.token_ids, [5, 6, 7]);
  const errors: Array<[string, unknown, number]> = [
    ['/v1/chat/completions/render', { model: 'nope', messages: [{ role: 'user', content: 'x' }] }, 404],
    ['/v1/chat/completions/render', { model: 'base-model', messages: [] }, 400],
    ['/v1/completions/render', { model: 'base-model', prompt: [1.5] }, 400],
    ['/v1/completions/render', { model: 'base-model', prompt: 'x', max_tokens: 10_000_000 }, 400],
  ];
  for (const [path, payload, status] of errors) {
    const r = await postJson(sim, path, payload);
    assert.equal(r.status, status, `${path} ${JSON.stringify(payload)}`);
    await r.json();
  }
});
