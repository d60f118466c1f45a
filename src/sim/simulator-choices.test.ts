/** HTTP tests for `n` > 1: several choices per request, whole and streamed, with vLLM's summed usage. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, readSse, testSimulator } from './test-kit.js';

const HOST = '127.0.80.1';

test('n choices whole: indices 0..n-1, the prompt counted once, completion tokens summed', async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 1, maxNumSeqs: 8 });
  const before = sim.stats().totalRequests;
  const chat = (await (await postJson(sim, '/v1/chat/completions', { model: 'base-model', messages: [{ role: 'user', content: 'hello' }], n: 3, max_tokens: 4 })).json()) as {
    choices: Array<{ index: number; message: { content: string }; finish_reason: string }>;
    usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  };
  assert.deepEqual(chat.choices.map((c) => [c.index, c.finish_reason]), [[0, 'length'], [1, 'length'], [2, 'length']]);
  assert.deepEqual(chat.usage, { prompt_tokens: 2, completion_tokens: 12, total_tokens: 14 });
  assert.equal(sim.stats().totalRequests - before, 3, 'each choice is a sequence in the engine');

  const completion = (await (await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'hi', n: 2, max_tokens: 2 })).json()) as {
    choices: Array<{ index: number; text: string }>;
    usage: { completion_tokens: number };
  };
  assert.deepEqual(completion.choices.map((c) => c.index), [0, 1]);
  assert.equal(completion.usage.completion_tokens, 4);
});

test('n choices streamed: a role chunk per choice first, every chunk names its choice, one usage chunk, [DONE]', async (t) => {
  const sim = await testSimulator(t, { host: HOST, mode: 'echo', ttftMs: 0, itlMs: 1 });
  const res = await postJson(sim, '/v1/chat/completions', {
    model: 'base-model',
    messages: [{ role: 'user', content: 'one two' }],
    n: 2,
    stream: true,
    stream_options: { include_usage: true },
  });
  const events = await readSse(res);
  assert.equal(events.at(-1)?.data, '[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as { choices: Array<{ index: number; delta: { role?: string; content?: string }; finish_reason: string | null }>; usage?: { completion_tokens: number } });
  assert.deepEqual(chunks.slice(0, 2).map((c) => [c.choices[0]?.index, c.choices[0]?.delta.role]), [[0, 'assistant'], [1, 'assistant']]);
  const usage = chunks.pop();
  assert.deepEqual(usage?.choices, []);
  assert.equal(usage?.usage?.completion_tokens, 4);
  for (const index of [0, 1]) {
    const mine = chunks.slice(2).filter((c) => c.choices[0]?.index === index);
    assert.equal(mine.map((c) => c.choices[0]?.delta.content).join(''), 'one two', `choice ${index}`);
    assert.deepEqual(mine.map((c) => c.choices[0]?.finish_reason), [null, 'stop']);
  }
});

test('a queue that cannot take all n choices answers 429 and keeps none of them', async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 50, maxNumSeqs: 1, maxWaitingQueueLength: 1 });
  const res = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'x', n: 3, max_tokens: 1 });
  assert.equal(res.status, 429);
  await res.text();
  assert.deepEqual({ running: sim.stats().running, waiting: sim.stats().waiting }, { running: 0, waiting: 0 });
  const ok = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'x', n: 2, max_tokens: 1 });
  assert.equal(ok.status, 200);
  await ok.text();
});
