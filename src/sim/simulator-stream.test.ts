/** HTTP tests for streamed responses: chunk shapes, timing, usage and [DONE]. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, readSse, testSimulator } from './test-kit.js';

interface Chunk {
  id: string;
  object: string;
  model: string;
  choices: Array<{ index: number; delta?: { role?: string; content?: string }; text?: string; finish_reason: string | null }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

test('chat stream: role first, one chunk per token spread over time, usage chunk, [DONE]', async (t) => {
  const itlMs = 20;
  const sim = await testSimulator(t, { mode: 'echo', ttftMs: 5, itlMs });
  const res = await postJson(sim, '/v1/chat/completions', {
    model: 'base-model',
    messages: [{ role: 'user', content: 'one two three four five' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events = await readSse(res);

  assert.equal(events.at(-1)?.data, '[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as Chunk);
  const [roleChunk, ...rest] = chunks;
  const usage = rest.pop();
  assert.deepEqual(roleChunk?.choices[0]?.delta, { role: 'assistant', content: '' });
  assert.equal(rest.length, 5, 'one chunk per token');
  assert.deepEqual(rest.map((c) => c.choices[0]?.delta?.content).join(''), 'one two three four five');
  assert.deepEqual(rest.map((c) => c.choices[0]?.finish_reason), [null, null, null, null, 'stop']);
  for (const c of chunks) {
    assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(c.model, 'base-model');
    assert.equal(c.id, roleChunk?.id);
  }
  assert.deepEqual(usage?.choices, []);
  assert.deepEqual(usage?.usage, { prompt_tokens: 6, completion_tokens: 5, total_tokens: 11 });

  // Tokens were flushed as generated: the 5 token events span about 4 itl, so they cannot have come as one read.
  const tokenTimes = events.slice(1, 6).map((e) => e.at);
  const spread = (tokenTimes.at(-1) ?? 0) - (tokenTimes[0] ?? 0);
  assert.ok(spread >= 2 * itlMs, `token arrivals spread over ${spread.toFixed(1)} ms`);
  assert.ok(new Set(tokenTimes).size >= 4, 'tokens arrived in separate reads');
});

test('completion stream: text_completion chunks, length on the last one, no usage unless asked', async (t) => {
  const sim = await testSimulator(t, { ttftMs: 1, itlMs: 1 });
  const res = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'hi', max_tokens: 4, stream: true });
  const events = await readSse(res);
  assert.equal(events.at(-1)?.data, '[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as Chunk);
  assert.equal(chunks.length, 4);
  for (const c of chunks) {
    assert.equal(c.object, 'text_completion');
    assert.match(c.id, /^cmpl-/);
    assert.equal(typeof c.choices[0]?.text, 'string');
    assert.equal(c.usage, undefined);
  }
  assert.deepEqual(chunks.map((c) => c.choices[0]?.finish_reason), [null, null, null, 'length']);
});

test('empty echo still streams a role chunk and a final chunk with the finish reason', async (t) => {
  const sim = await testSimulator(t, { mode: 'echo', ttftMs: 1, itlMs: 1 });
  const res = await postJson(sim, '/v1/chat/completions', {
    model: 'base-model',
    messages: [{ role: 'user', content: '' }],
    stream: true,
  });
  const events = await readSse(res);
  assert.deepEqual(events.map((e) => (e.data === '[DONE]' ? e.data : (JSON.parse(e.data) as Chunk).choices[0]?.finish_reason)), [
    null,
    'stop',
    '[DONE]',
  ]);
});

test('stream_options.continuous_usage_stats (with include_usage): every chunk carries the usage so far, per choice, as vLLM', async (t) => {
  const sim = await testSimulator(t, { host: '127.0.172.1', mode: 'echo', ttftMs: 0, itlMs: 0 });
  const chat = await postJson(sim, '/v1/chat/completions', {
    model: 'base-model',
    messages: [{ role: 'user', content: 'one two three' }],
    stream: true,
    stream_options: { include_usage: true, continuous_usage_stats: true },
  });
  const chunks = (await readSse(chat)).slice(0, -1).map((e) => JSON.parse(e.data) as Chunk);
  // The role chunk, three tokens, the usage chunk.
  assert.deepEqual(chunks.map((c) => c.usage?.completion_tokens), [0, 1, 2, 3, 3]);
  assert.ok(chunks.every((c) => c.usage?.prompt_tokens === 4 && c.usage.total_tokens === 4 + c.usage.completion_tokens));

  const completion = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'a b', n: 2, stream: true, stream_options: { include_usage: true, continuous_usage_stats: true } });
  const perChoice = new Map<number, number[]>();
  for (const c of (await readSse(completion)).slice(0, -2).map((e) => JSON.parse(e.data) as Chunk)) {
    const index = c.choices[0]!.index;
    perChoice.set(index, [...(perChoice.get(index) ?? []), c.usage!.completion_tokens]);
  }
  assert.deepEqual([...perChoice.entries()].sort(), [[0, [1, 2]], [1, [1, 2]]]);

  // Without include_usage, vLLM sends no usage at all.
  const alone = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'a b', stream: true, stream_options: { continuous_usage_stats: true } });
  assert.ok((await readSse(alone)).slice(0, -1).every((e) => (JSON.parse(e.data) as Chunk).usage === undefined));
});
