/** HTTP tests for the Anthropic Messages API on the simulator: the message, its streamed events, count_tokens and errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, readNamedSse, testSimulator } from './test-kit.js';

const HOST = '127.0.110.1';
const FAST = { host: HOST, mode: 'echo', ttftMs: 0, itlMs: 1 } as const;

type Json = Record<string, unknown>;


test('POST /v1/messages answers an Anthropic message, its usage in input and output tokens as /tokenize counts them', async (t) => {
  const sim = await testSimulator(t, { ...FAST, loras: ['sql'] });
  const res = await postJson(sim, '/v1/messages', { model: 'sql', max_tokens: 16, system: 'be brief', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello there world' }] }] });
  assert.equal(res.status, 200);
  const body = (await res.json()) as Json;
  assert.match(String(body.id), /^chatcmpl-[0-9a-f]{32}$/);
  assert.deepEqual({ ...body, id: 'x' }, {
    id: 'x',
    type: 'message',
    role: 'assistant',
    content: [{ type: 'text', text: 'hello there world' }],
    model: 'sql',
    stop_reason: 'end_turn',
    usage: { input_tokens: 7, output_tokens: 3 },
  });
  const counted = (await (await postJson(sim, '/tokenize', { prompt: 'be briefhello there world' })).json()) as { count: number };
  assert.equal(counted.count, 7);

  const cut = (await (await postJson(sim, '/v1/messages', { model: 'base-model', max_tokens: 2, messages: [{ role: 'user', content: 'one two three' }] })).json()) as Json;
  assert.equal(cut.stop_reason, 'max_tokens');
  assert.deepEqual(cut.usage, { input_tokens: 4, output_tokens: 2 });
});

test('a streamed message: message_start, the text block, one delta per token, message_delta with usage, message_stop, then [DONE]', async (t) => {
  const sim = await testSimulator(t, FAST);
  const res = await postJson(sim, '/v1/messages', { model: 'base-model', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'one two three' }] });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events = await readNamedSse(res);
  assert.deepEqual(events.map((e) => e.event), [
    'message_start',
    'content_block_start',
    'content_block_delta',
    'content_block_delta',
    'content_block_delta',
    'content_block_stop',
    'message_delta',
    'message_stop',
    '',
  ]);
  assert.equal(events.at(-1)?.data, '[DONE]');
  const data = events.slice(0, -1).map((e) => JSON.parse(e.data) as Json);
  data.forEach((d, i) => assert.equal(d.type, events[i]?.event));
  const message = data[0]?.message as Json;
  assert.match(String(message.id), /^chatcmpl-/);
  assert.deepEqual({ ...message, id: 'x' }, {
    id: 'x',
    type: 'message',
    role: 'assistant',
    content: [],
    model: 'base-model',
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 4, output_tokens: 0 },
  });
  assert.deepEqual(data[1], { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  assert.equal(data.slice(2, 5).map((d) => (d.delta as Json).text).join(''), 'one two three');
  assert.deepEqual(data[6], { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { input_tokens: 4, output_tokens: 3 } });
});

test('POST /v1/messages/count_tokens counts the prompt, system included, and runs nothing', async (t) => {
  const sim = await testSimulator(t, FAST);
  const res = await postJson(sim, '/v1/messages/count_tokens', { model: 'base-model', system: [{ type: 'text', text: 'be brief' }], messages: [{ role: 'user', content: 'hello there world' }] });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { input_tokens: 7 });
});

test("errors: vLLM's handler answers in Anthropic's shape, its request validation in OpenAI's", async (t) => {
  const sim = await testSimulator(t, FAST);
  const unknown = await postJson(sim, '/v1/messages', { model: 'nope', max_tokens: 4, messages: [{ role: 'user', content: 'x' }] });
  assert.equal(unknown.status, 404);
  assert.deepEqual(await unknown.json(), { type: 'error', error: { type: 'NotFoundError', message: 'The model `nope` does not exist.' } });
  const counted = await postJson(sim, '/v1/messages/count_tokens', { model: 'nope', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(counted.status, 404);
  assert.equal(((await counted.json()) as Json).type, 'error');
  const empty = await postJson(sim, '/v1/messages', { model: 'base-model', max_tokens: 4, messages: [] });
  assert.equal(empty.status, 400);
  assert.deepEqual(await empty.json(), { type: 'error', error: { type: 'BadRequestError', message: 'messages must contain at least one item' } });
  const noMax = await postJson(sim, '/v1/messages', { model: 'base-model', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(noMax.status, 400);
  const error = ((await noMax.json()) as { error: Json }).error;
  assert.equal(error.param, 'max_tokens');
  assert.equal(error.code, 400);
});

test('a pod of another task does not serve the Messages API', async (t) => {
  const sim = await testSimulator(t, { ...FAST, task: 'embed' });
  const res = await postJson(sim, '/v1/messages', { model: 'base-model', max_tokens: 4, messages: [{ role: 'user', content: 'x' }] });
  assert.equal(res.status, 404);
  assert.match(String(((await res.json()) as { error: Json }).error.message), /Messages API/);
});
