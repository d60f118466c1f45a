/** Chat's `tool_choice` as vLLM honours it: a named function or `required` is answered with a tool call, or vLLM's 400. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { postJson, testSimulator } from './test-kit.js';

/** Loopback address of these tests. */
const HOST = '127.0.38.23';

const TOOLS = [
  { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
  { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1 } }, required: ['city'] } } },
];
const MESSAGES = [{ role: 'user' as const, content: 'Weather in Paris?' }];

test('a named tool_choice, or required, is answered with a tool call whose arguments parse, streamed or whole', async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 0 });
  const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const named = await client.chat.completions.create({ model: 'base-model', messages: MESSAGES, tools: TOOLS, tool_choice: { type: 'function', function: { name: 'get_weather' } } });
  const choice = named.choices[0]!;
  assert.equal(choice.finish_reason, 'stop', "vLLM's finish_reason for a named function");
  assert.equal(choice.message.content, '');
  const call = choice.message.tool_calls![0]!;
  assert.ok(call.type === 'function' && call.id.startsWith('chatcmpl-tool-'));
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'text', days: 1 });

  const required = await client.chat.completions.create({ model: 'base-model', messages: MESSAGES, tools: TOOLS, tool_choice: 'required' });
  assert.equal(required.choices[0]!.finish_reason, 'tool_calls');
  assert.equal(required.choices[0]!.message.tool_calls![0]!.type, 'function');

  const stream = await client.chat.completions.create({ model: 'base-model', messages: MESSAGES, tools: TOOLS, tool_choice: { type: 'function', function: { name: 'get_weather' } }, stream: true });
  let name = '';
  let args = '';
  const ids = new Set<string>();
  let finish: string | null = null;
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (c === undefined) continue;
    for (const tc of c.delta.tool_calls ?? []) {
      if (tc.id !== undefined) ids.add(tc.id);
      name += tc.function?.name ?? '';
      args += tc.function?.arguments ?? '';
    }
    finish = c.finish_reason ?? finish;
  }
  assert.equal(ids.size, 1, 'the id comes once, in the first delta');
  assert.equal(name, 'get_weather');
  assert.deepEqual(JSON.parse(args), { city: 'text', days: 1 });
  assert.equal(finish, 'stop');

  // auto and none leave the reply free text.
  const auto = await client.chat.completions.create({ model: 'base-model', messages: MESSAGES, tools: TOOLS, tool_choice: 'none', max_tokens: 3 });
  assert.equal(auto.choices[0]!.message.tool_calls, undefined);
});

test("a tool_choice vLLM refuses gets its 400 in its words", async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 0 });
  const cases: [Record<string, unknown>, string][] = [
    [{ tool_choice: 'required' }, 'When using `tool_choice`, `tools` must be set.'],
    [{ tools: TOOLS, tool_choice: { type: 'function', function: { name: 'nope' } } }, 'The tool specified in `tool_choice` does not match any of the specified `tools`'],
    [{ tools: TOOLS, tool_choice: 'always' }, 'Invalid value for `tool_choice`: "always"! Only named tools, "none", "auto" or "required" are supported.'],
  ];
  for (const [extra, message] of cases) {
    const res = await postJson(sim, '/v1/chat/completions', { model: 'base-model', messages: MESSAGES, ...extra });
    assert.equal(res.status, 400, JSON.stringify(extra));
    assert.deepEqual(await res.json(), { error: { message, type: 'BadRequestError', param: 'tool_choice', code: 400 } });
  }
});
