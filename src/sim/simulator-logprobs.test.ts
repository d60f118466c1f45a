/** Log probabilities in vLLM's shapes: completions' token lists, chat's `logprobs.content`, streamed or whole. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { postJson, readSse, testSimulator } from './test-kit.js';

/** Loopback address of these tests. */
const HOST = '127.0.38.21';

interface CompletionLogprobs {
  text_offset: number[];
  token_logprobs: (number | null)[];
  tokens: string[];
  top_logprobs: (Record<string, number> | null)[];
}

test('chat logprobs reach the openai client as content entries, the chosen token first and most likely, streamed or whole', async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 0 });
  const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: 'hi' }];
  const chat = await client.chat.completions.create({ model: 'base-model', messages, max_tokens: 3, logprobs: true, top_logprobs: 2 });
  const choice = chat.choices[0]!;
  const content = choice.logprobs?.content ?? [];
  assert.equal(content.map((c) => c.token).join(''), choice.message.content);
  assert.equal(content.length, chat.usage!.completion_tokens);
  for (const entry of content) {
    assert.ok(entry.logprob <= 0);
    assert.deepEqual(entry.bytes, [...Buffer.from(entry.token)]);
    assert.equal(entry.top_logprobs.length, 2);
    assert.deepEqual([entry.top_logprobs[0]!.token, entry.top_logprobs[0]!.logprob], [entry.token, entry.logprob]);
    assert.ok(entry.top_logprobs[1]!.logprob < entry.logprob && entry.top_logprobs[1]!.token !== entry.token);
  }
  // Not asked: null, as before.
  const plain = await client.chat.completions.create({ model: 'base-model', messages, max_tokens: 2 });
  assert.equal(plain.choices[0]!.logprobs, null);

  const stream = await client.chat.completions.create({ model: 'base-model', messages, max_tokens: 3, logprobs: true, stream: true });
  let text = '';
  const tokens: string[] = [];
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (c === undefined || c.delta.role !== undefined) continue;
    text += c.delta.content ?? '';
    for (const entry of c.logprobs?.content ?? []) {
      assert.deepEqual(entry.top_logprobs, []);
      tokens.push(entry.token);
    }
  }
  assert.equal(tokens.length, 3);
  assert.equal(tokens.join(''), text);
});

test("a completion's logprobs list every token with its offset; with echo the prompt's come first, the first without a logprob", async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 0 });
  type Completion = { choices: { text: string; logprobs: CompletionLogprobs | null }[] };
  const res = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'Once upon a time', max_tokens: 3, logprobs: 2 });
  const { text, logprobs } = ((await res.json()) as Completion).choices[0]!;
  assert.ok(logprobs !== null);
  assert.equal(logprobs.tokens.join(''), text);
  assert.deepEqual(logprobs.text_offset, logprobs.tokens.map((_, i) => logprobs.tokens.slice(0, i).join('').length));
  for (const [i, top] of logprobs.top_logprobs.entries()) {
    assert.equal(Object.keys(top!).length, 2);
    assert.equal(top![logprobs.tokens[i]!], logprobs.token_logprobs[i]);
  }

  // lm-eval's loglikelihood: the prompt's tokens and their logprobs, nothing generated.
  const echo = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'Once upon a time', max_tokens: 0, echo: true, logprobs: 1 });
  const echoed = ((await echo.json()) as Completion).choices[0]!;
  assert.equal(echoed.text, 'Once upon a time');
  assert.deepEqual(echoed.logprobs!.tokens, ['Once', ' upo', 'n a ', 'time']);
  assert.equal(echoed.logprobs!.token_logprobs[0], null);
  assert.equal(echoed.logprobs!.top_logprobs[0], null);
  assert.ok(echoed.logprobs!.token_logprobs.slice(1).every((v) => typeof v === 'number' && v <= 0));

  const stream = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'Once upon a time', max_tokens: 3, logprobs: 0, stream: true });
  const chunks = (await readSse(stream)).slice(0, -1).map((e) => (JSON.parse(e.data) as Completion).choices[0]!);
  assert.equal(chunks.length, 3);
  let offset = 0;
  for (const chunk of chunks) {
    assert.deepEqual(chunk.logprobs!.tokens, [chunk.text]);
    assert.deepEqual(chunk.logprobs!.text_offset, [offset]);
    assert.deepEqual(Object.keys(chunk.logprobs!.top_logprobs[0]!), [chunk.text]);
    offset += chunk.text.length;
  }
});
