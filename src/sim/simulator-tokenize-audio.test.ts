/** HTTP tests for /tokenize and /detokenize, and the audio endpoints (multipart uploads, canned transcripts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningSimulator } from './simulator.js';
import { postJson, testSimulator } from './test-kit.js';

const HOST = '127.0.80.1';

test('/tokenize counts what usage reports; /detokenize inverts it; the model may be left out', async (t) => {
  const sim = await testSimulator(t, { host: HOST, mode: 'echo', ttftMs: 0, itlMs: 0 });
  const messages = [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello there world' }];
  const chat = (await (await postJson(sim, '/v1/chat/completions', { model: 'base-model', messages })).json()) as { usage: { prompt_tokens: number } };
  const tokenized = (await (await postJson(sim, '/tokenize', { model: 'base-model', messages })).json()) as Record<string, unknown>;
  assert.equal(tokenized.count, chat.usage.prompt_tokens);
  assert.equal(tokenized.max_model_len, 32768);
  assert.equal(tokenized.token_strs, null);
  assert.equal((tokenized.tokens as number[]).length, tokenized.count);

  const withStrs = (await (await postJson(sim, '/tokenize', { prompt: 'café au lait', return_token_strs: true })).json()) as { tokens: number[]; token_strs: string[] };
  assert.deepEqual(withStrs.token_strs, ['café', ' au ', 'lait']);
  const back = await postJson(sim, '/detokenize', { model: 'base-model', tokens: withStrs.tokens });
  assert.deepEqual(await back.json(), { prompt: 'café au lait' });

  const cases: Array<[string, unknown, number, string | null]> = [
    ['/tokenize', {}, 400, 'prompt'],
    ['/tokenize', { prompt: 5 }, 400, 'prompt'],
    ['/tokenize', { model: 'nope', prompt: 'x' }, 404, 'model'],
    ['/detokenize', { tokens: 'abc' }, 400, 'tokens'],
    ['/detokenize', { tokens: [1.5] }, 400, 'tokens'],
    ['/detokenize', { tokens: [0] }, 400, 'tokens'],
  ];
  for (const [path, body, status, param] of cases) {
    const res = await postJson(sim, path, body);
    assert.equal(res.status, status, `${path} ${JSON.stringify(body)}`);
    assert.equal(((await res.json()) as { error: { param: string | null } }).error.param, param);
  }
});

test('chat-template switches are booleans, and continue_final_message with add_generation_prompt is refused, as vLLM', async (t) => {
  const sim = await testSimulator(t, { host: '127.0.160.20', ttftMs: 0, itlMs: 0 });
  const messages = [{ role: 'user', content: 'hello' }];
  const both = { continue_final_message: true, add_generation_prompt: true };
  const cases: Array<[string, Record<string, unknown>, string | null]> = [
    ['/tokenize', { messages, ...both }, null],
    ['/v1/chat/completions/render', { model: 'base-model', messages, ...both }, null],
    ['/v1/chat/completions', { model: 'base-model', messages, max_tokens: 1, ...both }, null],
    ['/v1/embeddings', { model: 'base-model', messages, ...both }, null],
    ['/tokenize', { messages, add_generation_prompt: 'no' }, 'add_generation_prompt'],
    ['/tokenize', { prompt: 'x', add_special_tokens: 1 }, 'add_special_tokens'],
  ];
  for (const [path, body, param] of cases) {
    const res = await postJson(sim, path, body);
    assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}`);
    const { error } = (await res.json()) as { error: { message: string; param: string | null } };
    assert.equal(error.param, param, path);
    if (param === null) assert.equal(error.message, 'Cannot set both `continue_final_message` and `add_generation_prompt` to True.');
  }
  // Either one alone is fine (add_generation_prompt defaults to true, and only an explicit pair is refused).
  assert.equal((await postJson(sim, '/tokenize', { messages, continue_final_message: true })).status, 200);
  assert.equal((await postJson(sim, '/tokenize', { messages, add_generation_prompt: false, continue_final_message: true })).status, 200);
});

test('--chars-per-token 3: /tokenize, usage and the KV blocks all count three characters a token', async (t) => {
  const sim = await testSimulator(t, { host: HOST, mode: 'echo', ttftMs: 0, itlMs: 0, charsPerToken: 3 });
  const prompt = 'x'.repeat(300);
  const tokenized = (await (await postJson(sim, '/tokenize', { prompt, return_token_strs: true })).json()) as { count: number; token_strs: string[] };
  assert.equal(tokenized.count, 100);
  assert.ok(tokenized.token_strs.every((s) => s === 'xxx'));
  const done = (await (await postJson(sim, '/v1/completions', { model: 'base-model', prompt, max_tokens: 1 })).json()) as { usage: { prompt_tokens: number } };
  assert.equal(done.usage.prompt_tokens, 100);
});

function upload(sim: RunningSimulator, path: string, fields: Record<string, string>, file?: Blob): Promise<Response> {
  const form = new FormData();
  if (file !== undefined) form.append('file', file, 'audio.wav');
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return fetch(`${sim.url}${path}`, { method: 'POST', body: form });
}

/** A WAV header for `seconds` of 16 kHz 16-bit mono silence. */
function wav(seconds: number): Blob {
  const data = 32_000 * seconds;
  const buf = Buffer.alloc(44 + data);
  buf.write('RIFF', 0, 'latin1');
  buf.writeUInt32LE(36 + data, 4);
  buf.write('WAVEfmt ', 8, 'latin1');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(16_000, 24);
  buf.writeUInt32LE(32_000, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'latin1');
  buf.writeUInt32LE(data, 40);
  return new Blob([buf]);
}

test('transcriptions and translations: multipart in, a canned transcript out, in json, text and verbose_json', async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 0, loras: ['whisper-lora'] });
  const res = await upload(sim, '/v1/audio/transcriptions', { model: 'base-model' }, wav(4));
  assert.equal(res.status, 200);
  const json = (await res.json()) as { text: string; usage: unknown };
  assert.ok(json.text.split(' ').length >= 9, json.text);
  assert.deepEqual(json.usage, { type: 'duration', seconds: 4 });
  const again = (await (await upload(sim, '/v1/audio/transcriptions', { model: 'whisper-lora', response_format: 'text' }, wav(4))).json()) as { text: string };
  assert.equal(again.text, json.text, 'the same audio, the same transcript');

  const verbose = (await (await upload(sim, '/v1/audio/transcriptions', { model: 'base-model', response_format: 'verbose_json', language: 'de' }, wav(2))).json()) as Record<string, unknown>;
  assert.equal(verbose.duration, '2.00');
  assert.equal(verbose.language, 'de');
  assert.equal((verbose.segments as Array<{ text: string }>)[0]?.text, verbose.text);

  const translated = (await (await upload(sim, '/v1/audio/translations', { model: 'base-model' }, wav(1))).json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(translated), ['text']);
});

test('echo mode transcribes a text file as its text; bad uploads are 400s naming the field', async (t) => {
  const sim = await testSimulator(t, { host: HOST, mode: 'echo', ttftMs: 0, itlMs: 0 });
  const echoed = await upload(sim, '/v1/audio/transcriptions', { model: 'base-model' }, new Blob(['  the words to say \n']));
  assert.equal(((await echoed.json()) as { text: string }).text, 'the words to say');

  const cases: Array<[Record<string, string>, Blob | undefined, number, string | null, RegExp]> = [
    [{ model: 'base-model' }, undefined, 400, 'file', /`file` is required/],
    [{ model: 'base-model', file: 'not a file' }, undefined, 400, 'file', /file part/],
    [{}, new Blob(['x']), 400, 'model', /`model` is required/],
    [{ model: 'base-model', response_format: 'srt' }, new Blob(['x']), 400, 'response_format', /only support response_format `text`, `json` or `verbose_json`/],
    [{ model: 'nope' }, new Blob(['x']), 404, 'model', /does not exist/],
  ];
  for (const [fields, file, status, param, message] of cases) {
    const res = await upload(sim, '/v1/audio/transcriptions', fields, file);
    const err = ((await res.json()) as { error: { param: string | null; message: string } }).error;
    assert.equal(res.status, status, JSON.stringify(fields));
    assert.equal(err.param, param, JSON.stringify(fields));
    assert.match(err.message, message);
  }
  const asJson = await postJson(sim, '/v1/audio/transcriptions', { model: 'base-model' });
  assert.equal(asJson.status, 400);
  assert.match(((await asJson.json()) as { error: { message: string } }).error.message, /multipart\/form-data.*got content-type "application\/json"/);
});
