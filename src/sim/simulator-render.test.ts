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
    request_id: '', token_ids: tokenize.tokens, assistant_tokens_mask: null, token_offsets: null, features: null,
    sampling_params: { n: 1, presence_penalty: 0, frequency_penalty: 1.1, repetition_penalty: 1, temperature: 0, top_p: 1, seed: null, max_tokens: 7 },
    model: 'a', stream: true, stream_options: { include_usage: true }, cache_salt: 's', priority: 0, kv_transfer_params: null, ec_transfer_params: null,
  });
  assert.deepEqual(Object.keys(body), ['request_id', 'token_ids', 'assistant_tokens_mask', 'token_offsets', 'features', 'sampling_params', 'model', 'stream', 'stream_options', 'cache_salt', 'priority', 'kv_transfer_params', 'ec_transfer_params'], 'vLLM\'s field order');
});

test('return_token_offsets and return_assistant_tokens_mask: each token\'s character span, and which tokens are assistant turns', async (t) => {
  const sim = await testSimulator(t);
  // 4 characters a token: "Be brief." (9) + "Hi!" (3) + "Hello, how can I help?" (22) + "Thanks" (6) = 40 characters, 10 tokens.
  const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi!' }, { role: 'assistant', content: 'Hello, how can I help?' }, { role: 'user', content: 'Thanks' }];
  const res = await postJson(sim, '/v1/chat/completions/render', { model: 'base-model', messages, return_token_offsets: true, return_assistant_tokens_mask: true });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { token_ids: number[]; token_offsets: [number, number][]; assistant_tokens_mask: number[] };
  assert.equal(body.token_ids.length, 10);
  assert.deepEqual(body.token_offsets, Array.from({ length: 10 }, (_, i) => [4 * i, 4 * i + 4]));
  // The assistant turn is characters 12..34: tokens 3 (chars 12-16) to 8 (chars 32-36).
  assert.deepEqual(body.assistant_tokens_mask, [0, 0, 0, 1, 1, 1, 1, 1, 1, 0]);

  // Offsets count characters as Python does: an emoji is one character of two UTF-16 units.
  type Rendered = { token_ids: number[]; token_offsets: [number, number][] | null }[];
  const emoji = (await (await postJson(sim, '/v1/completions/render', { model: 'base-model', prompt: 'ab😀cdef', return_token_offsets: true })).json()) as Rendered;
  assert.deepEqual(emoji[0]!.token_offsets, [[0, 3], [3, 7]]);
  const ids = (await (await postJson(sim, '/v1/completions/render', { model: 'base-model', prompt: [5, 6], return_token_offsets: true })).json()) as Rendered;
  assert.equal(ids[0]!.token_offsets, null, 'a prompt of token ids has no text to point into');

  const off = (await (await postJson(sim, '/v1/chat/completions/render', { model: 'base-model', messages })).json()) as Record<string, unknown>;
  assert.deepEqual([off.token_offsets, off.assistant_tokens_mask], [null, null], 'only when asked');
  const bad = await postJson(sim, '/v1/chat/completions/render', { model: 'base-model', messages, return_token_offsets: 'yes' });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { error: { param: string } }).error.param, 'return_token_offsets');
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
