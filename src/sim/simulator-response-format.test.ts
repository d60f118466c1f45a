/** `response_format` as vLLM's structured outputs honour it: the reply is JSON (of the schema) that clients parse. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { postJson, readSse, testSimulator } from './test-kit.js';

/** Loopback address of these tests. */
const HOST = '127.0.38.22';

const SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    age: { type: 'integer', minimum: 18 },
    tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] }, minItems: 2 },
    kind: { anyOf: [{ const: 'person' }, { type: 'null' }] },
    address: { type: 'object', properties: { city: { type: 'string', maxLength: 2 } }, required: ['city'] },
  },
  required: ['name', 'age', 'tags', 'kind', 'address'],
};

test('json_schema and json_object replies parse as JSON of the schema, streamed or whole, through the openai client', async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 0 });
  const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: 'Describe someone' }];
  const format = { type: 'json_schema' as const, json_schema: { name: 'person', schema: SCHEMA, strict: true } };
  const chat = await client.chat.completions.create({ model: 'base-model', messages, response_format: format });
  assert.equal(chat.choices[0]!.finish_reason, 'stop');
  assert.deepEqual(JSON.parse(chat.choices[0]!.message.content!), { name: 'text', age: 18, tags: ['a', 'a'], kind: 'person', address: { city: 'te' } });

  const object = await client.chat.completions.create({ model: 'base-model', messages, response_format: { type: 'json_object' } });
  assert.deepEqual(JSON.parse(object.choices[0]!.message.content!), {});

  const stream = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'x', max_tokens: 100, stream: true, response_format: format });
  const text = (await readSse(stream)).slice(0, -1).map((e) => (JSON.parse(e.data) as { choices: { text: string }[] }).choices[0]!.text).join('');
  assert.equal(JSON.parse(text).name, 'text');

  // max_tokens still cuts it, as it cuts vLLM's guided output.
  const cut = await client.chat.completions.create({ model: 'base-model', messages, max_tokens: 2, response_format: format });
  assert.equal(cut.choices[0]!.finish_reason, 'length');
  assert.equal(cut.usage!.completion_tokens, 2);

  // text leaves the reply free.
  const free = await client.chat.completions.create({ model: 'base-model', messages, max_tokens: 3, response_format: { type: 'text' } });
  assert.throws(() => JSON.parse(free.choices[0]!.message.content!));
});

test('a response_format vLLM refuses gets its 400 naming response_format', async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 0 });
  for (const responseFormat of [{ type: 'bogus' }, 'json', { type: 'json_schema' }, { type: 'json_schema', json_schema: { schema: {} } }]) {
    const res = await postJson(sim, '/v1/chat/completions', { model: 'base-model', messages: [{ role: 'user', content: 'x' }], response_format: responseFormat });
    assert.equal(res.status, 400, JSON.stringify(responseFormat));
    const body = (await res.json()) as { error: { type: string; param: string } };
    assert.deepEqual([body.error.type, body.error.param], ['BadRequestError', 'response_format']);
  }
});

test("the Responses API's text.format json_schema is answered with JSON of the schema, through the openai client", async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 0 });
  const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const response = await client.responses.create({
    model: 'base-model',
    input: 'Describe someone',
    text: { format: { type: 'json_schema', name: 'person', schema: SCHEMA, strict: true } },
  });
  assert.equal(response.status, 'completed');
  assert.deepEqual(JSON.parse(response.output_text), { name: 'text', age: 18, tags: ['a', 'a'], kind: 'person', address: { city: 'te' } });
  const object = await client.responses.create({ model: 'base-model', input: 'x', text: { format: { type: 'json_object' } } });
  assert.deepEqual(JSON.parse(object.output_text), {});
  const bad = await postJson(sim, '/v1/responses', { model: 'base-model', input: 'x', text: { format: { type: 'yaml' } } });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { error: { param: string } }).error.param, 'text');
});
