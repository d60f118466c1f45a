/**
 * The simulator against the official `openai` client, directly (no gateway): embeddings, the Responses API,
 * audio uploads, n > 1 and vLLM's --api-key. Simulators listen on 127.0.80.2+ (this file's addresses), port 0.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { startSimulator, type RunningSimulator } from '../../src/sim/simulator.js';

const MODEL = 'Qwen/Qwen3-0.6B';
const KEY = 'sim-test-key';

let sim: RunningSimulator;
let client: OpenAI;

before(async () => {
  sim = await startSimulator({ model: MODEL, host: '127.0.80.2', port: 0, mode: 'echo', ttftMs: 0, itlMs: 1, embeddingDimensions: 16, apiKeys: [KEY] });
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: KEY, maxRetries: 0 });
});
after(() => sim.close());

describe('the simulator with the openai client', () => {
  test('embeddings: the client default (base64, decoded by the client) equals encoding_format float', async () => {
    const input = ['what is an inference gateway', 'an inference gateway routes requests'];
    const decoded = await client.embeddings.create({ model: MODEL, input });
    const floats = await client.embeddings.create({ model: MODEL, input, encoding_format: 'float' });
    const base64 = await client.embeddings.create({ model: MODEL, input: input[0]!, encoding_format: 'base64' });
    assert.equal(decoded.data.length, 2);
    assert.equal(decoded.model, MODEL);
    // The simulator's tokenizer: 4 characters a token, as /tokenize counts them.
    const tokens = input.reduce((n, s) => n + Math.ceil(s.length / 4), 0);
    assert.deepEqual(floats.usage, { prompt_tokens: tokens, total_tokens: tokens, completion_tokens: 0, prompt_tokens_details: null });
    for (const [i, d] of decoded.data.entries()) {
      assert.equal(d.embedding.length, 16);
      d.embedding.forEach((x, j) => assert.ok(Math.abs(x - floats.data[i]!.embedding[j]!) < 1e-6));
    }
    assert.equal(typeof base64.data[0]?.embedding, 'string');
  });

  test('responses: whole, and streamed with the client reading every event', async () => {
    const whole = await client.responses.create({ model: MODEL, input: 'hello from the responses api', instructions: 'answer briefly' });
    assert.equal(whole.status, 'completed');
    assert.equal(whole.output_text, 'hello from the responses api');
    assert.equal(whole.usage?.output_tokens, 5);
    assert.equal(whole.usage?.input_tokens, Math.ceil('answer brieflyhello from the responses api'.length / 4));

    const stream = await client.responses.create({ model: MODEL, input: [{ role: 'user', content: 'stream these words' }], stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    assert.equal(events[0]?.type, 'response.created');
    assert.equal(events.at(-1)?.type, 'response.completed');
    const deltas = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : []));
    assert.equal(deltas.join(''), 'stream these words');
    assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
    const done = events.at(-1);
    assert.ok(done?.type === 'response.completed');
    assert.equal(done.response.status, 'completed');
    const message = done.response.output[0];
    assert.ok(message?.type === 'message' && message.content[0]?.type === 'output_text');
    assert.equal(message.content[0].text, 'stream these words');
  });

  test('responses: a stored response is retrieved, deleted, and then a 404 NotFoundError', async () => {
    const created = await client.responses.create({ model: MODEL, input: 'keep me' });
    const got = await client.responses.retrieve(created.id);
    assert.equal(got.id, created.id);
    assert.equal(got.output_text, 'keep me');
    const followUp = await client.responses.create({ model: MODEL, input: 'and more', previous_response_id: created.id });
    assert.equal(followUp.previous_response_id, created.id);
    await client.responses.delete(created.id);
    await assert.rejects(client.responses.retrieve(created.id), (err: unknown) => err instanceof OpenAI.NotFoundError && /not found/.test(err.message));
  });

  test('transcriptions and translations: an in-memory file uploaded with toFile', async () => {
    const file = await toFile(Buffer.from('hello from a small audio file'), 'speech.wav', { type: 'audio/wav' });
    const transcript = await client.audio.transcriptions.create({ model: MODEL, file });
    assert.equal(transcript.text, 'hello from a small audio file');
    const translated = await client.audio.translations.create({ model: MODEL, file: await toFile(Buffer.from('bonjour'), 'fr.wav') });
    assert.equal(translated.text, 'bonjour');
    await assert.rejects(
      client.audio.transcriptions.create({ model: 'not-served', file: await toFile(Buffer.from('x'), 'x.wav') }),
      (err: unknown) => err instanceof OpenAI.NotFoundError,
    );
  });

  test('n = 2: two choices, whole and streamed', async () => {
    const chat = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'two of these' }], n: 2 });
    assert.deepEqual(chat.choices.map((c) => [c.index, c.message.content]), [[0, 'two of these'], [1, 'two of these']]);
    assert.equal(chat.usage?.completion_tokens, 6);
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'a b' }], n: 2, stream: true });
    const text = ['', ''];
    for await (const chunk of stream) for (const c of chunk.choices) text[c.index] += c.delta.content ?? '';
    assert.deepEqual(text, ['a b', 'a b']);
  });

  test('--api-key: the right key works, a wrong one is an AuthenticationError; /health needs none', async () => {
    assert.deepEqual((await client.models.list()).data.map((m) => m.id), [MODEL]);
    const wrong = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'not-the-key', maxRetries: 0 });
    await assert.rejects(wrong.models.list(), (err: unknown) => err instanceof OpenAI.AuthenticationError && err.status === 401);
    await assert.rejects(
      wrong.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => err instanceof OpenAI.AuthenticationError,
    );
    assert.equal((await fetch(`${sim.url}/health`)).status, 200);
  });
});
