/** Streamed transcriptions and translations as vLLM streams them, and form fields read as vLLM's form parser reads them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import type { RunningSimulator } from './simulator.js';
import { readSse, testSimulator } from './test-kit.js';

const HOST = '127.0.172.1';
const WORDS = 'the words to say';

function upload(sim: RunningSimulator, path: string, fields: [string, string][]): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([WORDS]), 'speech.txt');
  for (const [k, v] of fields) form.append(k, v);
  return fetch(`${sim.url}${path}`, { method: 'POST', body: form });
}

interface Chunk {
  id: string;
  object: string;
  model: string;
  choices: { delta: { content: string }; finish_reason?: string; stop_reason?: null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

async function chunks(res: Response): Promise<{ chunks: Chunk[]; last: string | undefined }> {
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events = await readSse(res);
  return { chunks: events.slice(0, -1).map((e) => JSON.parse(e.data) as Chunk), last: events.at(-1)?.data };
}

test('stream=true: one transcription.chunk per token, the last with finish_reason, a usage chunk when asked, then [DONE]', async (t) => {
  const sim = await testSimulator(t, { host: HOST, mode: 'echo', ttftMs: 0, itlMs: 0 });
  const { chunks: got, last } = await chunks(await upload(sim, '/v1/audio/transcriptions', [['model', 'base-model'], ['stream', 'true'], ['stream_include_usage', 'true']]));
  assert.equal(last, '[DONE]');
  const usage = got.at(-1)!;
  assert.deepEqual(usage.choices, []);
  assert.deepEqual(usage.usage, { prompt_tokens: 0, total_tokens: 4, completion_tokens: 4 });
  const tokens = got.slice(0, -1);
  assert.equal(tokens.length, 4);
  assert.equal(tokens.map((c) => c.choices[0]!.delta.content).join(''), WORDS);
  for (const c of got) {
    assert.match(c.id, /^trsc-[0-9a-f]{32}$/);
    assert.equal(c.id, got[0]!.id);
    assert.equal(c.object, 'transcription.chunk');
    assert.equal(c.model, 'base-model');
  }
  // vLLM leaves unset fields out: only the last token's choice names why it ended.
  assert.deepEqual(Object.keys(tokens[0]!.choices[0]!), ['delta']);
  assert.deepEqual(tokens.at(-1)!.choices[0], { delta: { content: ' say' }, finish_reason: 'stop', stop_reason: null });
  assert.equal(tokens[0]!.usage, undefined);
});

test('translations stream translation.chunk; stream_continuous_usage_stats puts the running usage on every chunk', async (t) => {
  const sim = await testSimulator(t, { host: HOST, mode: 'echo', ttftMs: 0, itlMs: 0 });
  const fields: [string, string][] = [['model', 'base-model'], ['stream', '1'], ['stream_include_usage', 'yes'], ['stream_continuous_usage_stats', 'true']];
  const { chunks: got } = await chunks(await upload(sim, '/v1/audio/translations', fields));
  assert.ok(got.every((c) => c.object === 'translation.chunk' && c.id.startsWith('trsl-')));
  assert.deepEqual(got.map((c) => c.usage?.completion_tokens), [1, 2, 3, 4, 4]);
  // Without the final usage chunk asked for, vLLM sends no usage at all.
  const { chunks: plain } = await chunks(await upload(sim, '/v1/audio/translations', [['model', 'base-model'], ['stream', 'true'], ['stream_continuous_usage_stats', 'true']]));
  assert.ok(plain.every((c) => c.usage === undefined));
  assert.equal(plain.length, 4);
});

test('stream options without stream, and a stream that is not a boolean, are 400s naming the field', async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 0 });
  const cases: [[string, string][], string, RegExp][] = [
    [[['stream_include_usage', 'true']], 'stream_include_usage', /Stream options can only be defined when `stream=True`/],
    [[['stream', 'false'], ['stream_continuous_usage_stats', 'true']], 'stream_continuous_usage_stats', /Stream options can only be defined/],
    [[['stream', 'maybe']], 'stream', /`stream` must be a boolean/],
  ];
  for (const [fields, param, message] of cases) {
    const res = await upload(sim, '/v1/audio/transcriptions', [['model', 'base-model'], ...fields]);
    assert.equal(res.status, 400, JSON.stringify(fields));
    const err = ((await res.json()) as { error: { param: string; message: string } }).error;
    assert.equal(err.param, param);
    assert.match(err.message, message);
  }
});

test('a field sent twice counts by its last value, as vLLM reads a form (a gateway routes by the same one)', async (t) => {
  const sim = await testSimulator(t, { host: HOST, mode: 'echo', ttftMs: 0, itlMs: 0 });
  const res = await upload(sim, '/v1/audio/transcriptions', [['model', 'not-served'], ['response_format', 'verbose_json'], ['model', 'base-model'], ['response_format', 'json']]);
  assert.equal(res.status, 200);
  assert.deepEqual(Object.keys((await res.json()) as object), ['text', 'usage']);
});

test('the openai client streams a transcription from the simulator', async (t) => {
  const sim = await testSimulator(t, { host: HOST, mode: 'echo', ttftMs: 0, itlMs: 0 });
  const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const stream = await client.audio.transcriptions.create({ model: 'base-model', file: await toFile(Buffer.from(WORDS), 'speech.txt'), stream: true });
  let text = '';
  for await (const event of stream) text += (event as unknown as Chunk).choices[0]?.delta.content ?? '';
  assert.equal(text, WORDS);
});
