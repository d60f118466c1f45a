/** `/v1/completions` with several prompts or token-id prompts, answered as vLLM answers them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { postJson, readSse, testSimulator } from './test-kit.js';

const HOST = '127.0.172.3';

interface Completion {
  choices: { index: number; text: string; finish_reason: string | null }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

test('several prompts: n choices each, numbered prompt x n + j, every prompt counted in usage', async (t) => {
  const sim = await testSimulator(t, { host: HOST, mode: 'echo', ttftMs: 0, itlMs: 0 });
  const res = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: ['one two', 'three'], n: 2 });
  assert.equal(res.status, 200);
  const body = (await res.json()) as Completion;
  assert.deepEqual(
    body.choices.map((c) => [c.index, c.text]),
    [[0, 'one two'], [1, 'one two'], [2, 'three'], [3, 'three']],
  );
  // 'one two' is 2 tokens and 'three' 2 (4 characters a token); each choice says its prompt back.
  assert.deepEqual(body.usage, { prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 });

  const streamed = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: ['a b', 'c'], stream: true, stream_options: { include_usage: true } });
  const chunks = (await readSse(streamed)).slice(0, -1).map((e) => JSON.parse(e.data) as Completion);
  const usage = chunks.pop()!;
  const byChoice = new Map<number, string>();
  for (const c of chunks) byChoice.set(c.choices[0]!.index, (byChoice.get(c.choices[0]!.index) ?? '') + c.choices[0]!.text);
  assert.deepEqual([...byChoice.entries()].sort(), [[0, 'a b'], [1, 'c']]);
  assert.deepEqual(usage.usage, { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
});

test('token-id prompts: decoded by the tokenizer, counted by their ids; an id outside its vocabulary is a 400 naming the prompt', async (t) => {
  const sim = await testSimulator(t, { host: HOST, mode: 'echo', ttftMs: 0, itlMs: 0 });
  const ids = ((await (await postJson(sim, '/tokenize', { prompt: 'hello world' })).json()) as { tokens: number[] }).tokens;
  const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const one = await client.completions.create({ model: 'base-model', prompt: ids });
  assert.equal(one.choices[0]?.text, 'hello world');
  assert.equal(one.usage?.prompt_tokens, ids.length);
  const two = await client.completions.create({ model: 'base-model', prompt: [ids, ids.slice(0, 1)] });
  assert.deepEqual(two.choices.map((c) => c.text), ['hello world', 'hell']);
  assert.equal(two.usage?.prompt_tokens, ids.length + 1);

  const bad = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: [ids, [0]] });
  assert.equal(bad.status, 400);
  const err = ((await bad.json()) as { error: { param: string; message: string } }).error;
  assert.equal(err.param, 'prompt');
  assert.match(err.message, /^`prompt\[1\]`: token id 0 is not in the simulator's vocabulary/);
  const mixed = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: ['text', [1, 2]] });
  assert.equal(mixed.status, 400, 'strings and token ids do not mix, as in vLLM');
});
