/** `echo`, as vLLM answers it: a completion's prompt in front of its text (alone with `max_tokens: 0`), chat's trailing assistant message. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, readSse, testSimulator } from './test-kit.js';

/** Loopback address of these tests. */
const HOST = '127.0.38.20';

interface Completion {
  choices: { index: number; text: string; finish_reason: string | null }[];
  usage: { prompt_tokens: number; completion_tokens: number };
}

test('a completion with echo starts with its prompt, each prompt its own; with max_tokens 0 it is the prompt alone', async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 0, seed: 7 });
  const plain = (await (await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'Once upon', max_tokens: 3 })).json()) as Completion;
  const res = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: ['Once upon', 'A time'], max_tokens: 3, echo: true });
  assert.equal(res.status, 200);
  const echoed = (await res.json()) as Completion;
  assert.equal(echoed.choices.length, 2);
  assert.ok(echoed.choices[0]!.text.startsWith('Once upon') && echoed.choices[0]!.text.length > 'Once upon'.length, echoed.choices[0]!.text);
  assert.ok(echoed.choices[1]!.text.startsWith('A time') && echoed.choices[1]!.text.length > 'A time'.length, echoed.choices[1]!.text);
  // The echoed prompt is no generated token: at most max_tokens per choice are counted.
  assert.ok(echoed.usage.completion_tokens > 0 && echoed.usage.completion_tokens <= 6, String(echoed.usage.completion_tokens));
  // 'A time' is two tokens of four characters, 'Once upon' three.
  assert.equal(echoed.usage.prompt_tokens, plain.usage.prompt_tokens + 2);

  // lm-eval's loglikelihood request: echo, no generation. vLLM runs one token (counted) and answers the prompt.
  const only = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'Once upon', max_tokens: 0, echo: true });
  assert.equal(only.status, 200);
  const onlyBody = (await only.json()) as Completion;
  assert.equal(onlyBody.choices[0]!.text, 'Once upon');
  assert.equal(onlyBody.choices[0]!.finish_reason, 'length');
  assert.equal(onlyBody.usage.completion_tokens, 1);

  // Without echo, no tokens is still vLLM's 400.
  const none = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'Once upon', max_tokens: 0 });
  assert.equal(none.status, 400);
  await none.json();
});

test('a streamed completion with echo carries its prompt in the first chunk of each choice', async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 0 });
  const res = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'Once upon', max_tokens: 3, n: 2, echo: true, stream: true });
  assert.equal(res.status, 200);
  const chunks = (await readSse(res)).slice(0, -1).map((e) => JSON.parse(e.data) as Completion);
  for (const index of [0, 1]) {
    const texts = chunks.flatMap((c) => c.choices.filter((ch) => ch.index === index).map((ch) => ch.text));
    assert.equal(texts.length, 3);
    assert.ok(texts[0]!.startsWith('Once upon') && texts[0]!.length > 'Once upon'.length, texts[0]);
    assert.ok(!texts.slice(1).some((x) => x.includes('Once upon')));
  }
  const only = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'Once upon', max_tokens: 0, echo: true, stream: true });
  const onlyChunks = (await readSse(only)).slice(0, -1).map((e) => JSON.parse(e.data) as Completion);
  assert.deepEqual(onlyChunks.map((c) => [c.choices[0]!.text, c.choices[0]!.finish_reason]), [['Once upon', 'length']]);
});

test("chat with echo continues a trailing assistant message, and ignores echo after a user's", async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 0 });
  type Chat = { choices: { message: { content: string } }[] };
  const messages = [{ role: 'user', content: 'Say hi' }, { role: 'assistant', content: 'Hi, I am' }];
  const res = await postJson(sim, '/v1/chat/completions', { model: 'base-model', messages, max_tokens: 2, echo: true });
  const content = ((await res.json()) as Chat).choices[0]!.message.content;
  assert.ok(content.startsWith('Hi, I am') && content.length > 'Hi, I am'.length, content);
  const user = await postJson(sim, '/v1/chat/completions', { model: 'base-model', messages: messages.slice(0, 1), max_tokens: 2, echo: true });
  assert.ok(!((await user.json()) as Chat).choices[0]!.message.content.startsWith('Say hi'));

  type Chunk = { choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[] };
  const stream = await postJson(sim, '/v1/chat/completions', { model: 'base-model', messages, max_tokens: 2, echo: true, stream: true });
  const deltas = (await readSse(stream)).slice(0, -1).map((e) => (JSON.parse(e.data) as Chunk).choices[0]!.delta);
  // vLLM: the role chunk, then the echoed message as a chunk of its own, then the tokens.
  assert.deepEqual(deltas.slice(0, 2), [{ role: 'assistant', content: '' }, { content: 'Hi, I am' }]);
  assert.equal(deltas.length, 4);
});
