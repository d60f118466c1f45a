/** Table tests for generation request validation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from './generate-request.js';
import { parseGenerateRequest } from './generate-request.js';
import { parseResponsesRequest } from './responses-request.js';
import { VllmError } from './vllm-error.js';

test('parseGenerateRequest rejects bad bodies with a 400 naming the field', () => {
  const cases: Array<[string, Endpoint, unknown, string | null]> = [
    ['not an object', 'chat', [1, 2], null],
    ['null body', 'completion', null, null],
    ['missing model', 'chat', { messages: [{ role: 'user', content: 'hi' }] }, 'model'],
    ['empty model', 'completion', { model: '', prompt: 'x' }, 'model'],
    ['model not a string', 'completion', { model: 3, prompt: 'x' }, 'model'],
    ['no messages', 'chat', { model: 'm' }, 'messages'],
    ['empty messages', 'chat', { model: 'm', messages: [] }, 'messages'],
    ['message without role', 'chat', { model: 'm', messages: [{ content: 'x' }] }, 'messages'],
    ['content a number', 'chat', { model: 'm', messages: [{ role: 'user', content: 4 }] }, 'messages'],
    ['no prompt', 'completion', { model: 'm' }, 'prompt'],
    ['prompt of fractions', 'completion', { model: 'm', prompt: [1.5, 2] }, 'prompt'],
    ['prompt mixing text and token ids', 'completion', { model: 'm', prompt: ['a', [1, 2]] }, 'prompt'],
    ['prompt of an empty list of ids', 'completion', { model: 'm', prompt: [[]] }, 'prompt'],
    ['max_tokens zero', 'completion', { model: 'm', prompt: 'x', max_tokens: 0 }, 'max_tokens'],
    ['max_tokens fraction', 'completion', { model: 'm', prompt: 'x', max_tokens: 1.5 }, 'max_tokens'],
    ['max_tokens string', 'completion', { model: 'm', prompt: 'x', max_tokens: '5' }, 'max_tokens'],
    ['stream not boolean', 'completion', { model: 'm', prompt: 'x', stream: 'yes' }, 'stream'],
    ['stream_options without stream', 'completion', { model: 'm', prompt: 'x', stream_options: {} }, 'stream_options'],
    ['n of 0', 'completion', { model: 'm', prompt: 'x', n: 0 }, 'n'],
    ['n past the cap', 'chat', { model: 'm', messages: [{ role: 'user', content: 'x' }], n: 129 }, 'n'],
    ['n a fraction', 'completion', { model: 'm', prompt: 'x', n: 1.5 }, 'n'],
    ['negative temperature (vLLM refuses it)', 'chat', { model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: -1 }, 'temperature'],
    ['temperature a string', 'completion', { model: 'm', prompt: 'x', temperature: 'hot' }, 'temperature'],
    ['top_p of 0', 'completion', { model: 'm', prompt: 'x', top_p: 0 }, 'top_p'],
    ['top_p over 1', 'chat', { model: 'm', messages: [{ role: 'user', content: 'x' }], top_p: 1.5 }, 'top_p'],
  ];
  for (const [name, endpoint, body, param] of cases) {
    assert.throws(
      () => parseGenerateRequest(endpoint, body),
      (err: unknown) => err instanceof VllmError && err.status === 400 && err.param === param,
      name,
    );
  }
});

test('chat: prompt is every message joined, echo text is the last user message', () => {
  const req = parseGenerateRequest('chat', {
    model: 'm',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'first' }, { type: 'image_url', image_url: {} }] },
      { role: 'assistant', content: null },
      { role: 'user', content: 'second question' },
    ],
    max_completion_tokens: 3,
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.deepEqual(req, {
    endpoint: 'chat',
    model: 'm',
    stream: true,
    includeUsage: true,
    continuousUsage: false,
    maxTokens: 3,
    n: 1,
    promptText: 'Be brief.firstsecond question',
    echoText: 'second question',
    prompts: [],
    stop: [],
    includeStopStr: false,
    cacheSalt: null,
    echo: false,
    chatEchoPrefix: '',
    logprobs: null,
    structured: null,
    toolCall: null,
    kvTransfer: null,
  });
});

test('completion: a string prompt, no cap, not streamed', () => {
  const req = parseGenerateRequest('completion', { model: 'm', prompt: 'hello', max_tokens: null });
  assert.equal(req.promptText, 'hello');
  assert.equal(req.echoText, 'hello');
  assert.equal(req.maxTokens, null);
  assert.equal(req.stream, false);
  assert.equal(req.includeUsage, false);
  assert.deepEqual(req.prompts, ['hello']);
});

test('completion: several prompts, and token ids, one entry each in prompts', () => {
  assert.deepEqual(parseGenerateRequest('completion', { model: 'm', prompt: ['a', 'b'] }).prompts, ['a', 'b']);
  assert.deepEqual(parseGenerateRequest('completion', { model: 'm', prompt: [5, 6] }).prompts, [[5, 6]]);
  assert.deepEqual(parseGenerateRequest('completion', { model: 'm', prompt: [[5], [6, 7]] }).prompts, [[5], [6, 7]]);
});

test('sampling values vLLM takes pass: temperature 0 and up, top_p in (0, 1], null for either', () => {
  for (const extra of [{ temperature: 0 }, { temperature: 2 }, { top_p: 1 }, { top_p: 0.01 }, { temperature: null, top_p: null }]) {
    assert.doesNotThrow(() => parseGenerateRequest('completion', { model: 'm', prompt: 'x', ...extra }), JSON.stringify(extra));
  }
  assert.throws(() => parseGenerateRequest('completion', { model: 'm', prompt: 'x', temperature: -0.5 }), /^Error: temperature must be non-negative, got -0.5\.$|temperature must be non-negative, got -0\.5\./);
});

test('a priority other than 0 is vLLM\'s 400 under its default first-come-first-served policy; 0 or none passes', () => {
  const chat = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
  for (const ok of [{}, { priority: 0 }, { priority: null }]) {
    assert.doesNotThrow(() => parseGenerateRequest('chat', { ...chat, ...ok }));
    assert.doesNotThrow(() => parseResponsesRequest({ model: 'm', input: 'x', ...ok }));
  }
  const refused = (f: () => unknown, message: string): void => {
    assert.throws(f, (e: unknown) => e instanceof VllmError && e.status === 400 && e.message === message && e.param === 'priority');
  };
  refused(() => parseGenerateRequest('chat', { ...chat, priority: 5 }), 'Got priority 5 but Priority scheduling is not enabled.');
  refused(() => parseGenerateRequest('completion', { model: 'm', prompt: 'x', priority: -1 }), 'Got priority -1 but Priority scheduling is not enabled.');
  refused(() => parseResponsesRequest({ model: 'm', input: 'x', priority: 3 }), 'Got priority 3 but Priority scheduling is not enabled.');
  refused(() => parseGenerateRequest('chat', { ...chat, priority: 'high' }), '`priority` must be an integer, got "high"');
});

test("types vLLM's request models refuse: chat's logprobs not a boolean, seed not an integer; pydantic's lax forms pass", () => {
  const chat = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
  for (const ok of [{ logprobs: true }, { logprobs: 1 }, { logprobs: 'no' }, { seed: 7 }, { seed: 7.0 }, { seed: '42' }, { seed: null }]) {
    assert.doesNotThrow(() => parseGenerateRequest('chat', { ...chat, ...ok }), JSON.stringify(ok));
  }
  // A completion's logprobs is a count, not a boolean.
  assert.doesNotThrow(() => parseGenerateRequest('completion', { model: 'm', prompt: 'x', logprobs: 3 }));
  const refused = (f: () => unknown, param: string, message: string): void => {
    assert.throws(f, (e: unknown) => e instanceof VllmError && e.status === 400 && e.message === message && e.param === param);
  };
  refused(() => parseGenerateRequest('chat', { ...chat, logprobs: 3 }), 'logprobs', '`logprobs` must be a boolean, got 3');
  refused(() => parseGenerateRequest('chat', { ...chat, logprobs: 'maybe' }), 'logprobs', '`logprobs` must be a boolean, got "maybe"');
  refused(() => parseGenerateRequest('chat', { ...chat, seed: 'x' }), 'seed', '`seed` must be an integer, got "x"');
  refused(() => parseGenerateRequest('completion', { model: 'm', prompt: 'x', seed: 1.5 }), 'seed', '`seed` must be an integer, got 1.5');
});
