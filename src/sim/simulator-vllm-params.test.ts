/** Generation parameters vLLM treats in its own way: the completions default of 16 tokens, and the values it refuses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, testSimulator } from './test-kit.js';

/** Loopback address of these tests. */
const HOST = '127.0.224.20';

test('a completion without max_tokens stops at 16 tokens with finish_reason length; chat and an explicit null have no cap', async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 0, maxTokensDefault: 40 });
  const completion = async (body: Record<string, unknown>): Promise<{ finish: string; tokens: number }> => {
    const res = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'hello', ...body });
    assert.equal(res.status, 200);
    const json = (await res.json()) as { choices: { finish_reason: string }[]; usage: { completion_tokens: number } };
    return { finish: json.choices[0]!.finish_reason, tokens: json.usage.completion_tokens };
  };
  // vLLM's CompletionRequest defaults max_tokens to 16: the reply is cut there, and says so.
  assert.deepEqual(await completion({}), { finish: 'length', tokens: 16 });
  // null lifts the cap: the reply ends by itself (the simulator's natural length, here 40 tokens).
  assert.deepEqual(await completion({ max_tokens: null }), { finish: 'stop', tokens: 40 });
  const chat = await postJson(sim, '/v1/chat/completions', { model: 'base-model', messages: [{ role: 'user', content: 'hello' }] });
  const body = (await chat.json()) as { choices: { finish_reason: string }[]; usage: { completion_tokens: number } };
  assert.equal(body.choices[0]!.finish_reason, 'stop');
  assert.equal(body.usage.completion_tokens, 40);
});

test("sampling, logprobs and prompt values vLLM refuses get its 400, in its words", async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 0 });
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['/v1/completions', { presence_penalty: 5 }, 'presence_penalty must be in [-2, 2], got 5.', 'presence_penalty'],
    ['/v1/completions', { frequency_penalty: -3 }, 'frequency_penalty must be in [-2, 2], got -3.', 'frequency_penalty'],
    ['/v1/completions', { repetition_penalty: 0 }, 'repetition_penalty must be greater than zero, got 0.', 'repetition_penalty'],
    ['/v1/completions', { top_k: -5 }, 'top_k must be 0 (disable), or at least 1, got -5.', 'top_k'],
    ['/v1/completions', { min_p: 1.5 }, 'min_p must be in [0, 1], got 1.5.', 'min_p'],
    ['/v1/completions', { logprobs: 50 }, 'Requested sample logprobs of 50, which is greater than max allowed: 20', 'logprobs'],
    ['/v1/chat/completions', { top_logprobs: 2 }, 'when using `top_logprobs`, `logprobs` must be set to true.', 'top_logprobs'],
    ['/v1/chat/completions', { logprobs: true, top_logprobs: 21 }, 'Requested sample logprobs of 21, which is greater than max allowed: 20', 'top_logprobs'],
    ['/v1/chat/completions', { n: 2, temperature: 0 }, 'n must be 1 when using greedy sampling, got 2.', 'n'],
    // An empty stop string was dropped without a word.
    ['/v1/completions', { stop: '' }, 'stop cannot contain an empty string.', 'stop'],
    ['/v1/chat/completions', { stop: ['\n', ''] }, 'stop cannot contain an empty string.', 'stop'],
    // An empty prompt was answered 200 with prompt_tokens 0.
    ['/v1/completions', { prompt: '' }, 'The decoder prompt cannot be empty', 'prompt'],
    ['/v1/completions', { prompt: ['a', ''] }, 'The decoder prompt cannot be empty', 'prompt'],
    // A FIM request was answered as a plain completion, so a FIM client never fell back to prefix-only as on vLLM.
    ['/v1/completions', { suffix: '}' }, 'suffix is not currently supported', 'suffix'],
  ];
  for (const [path, extra, message, param] of cases) {
    const input = path === '/v1/completions' ? { prompt: 'hi' } : { messages: [{ role: 'user', content: 'hi' }] };
    const res = await postJson(sim, path, { model: 'base-model', max_tokens: 2, ...input, ...extra });
    assert.equal(res.status, 400, JSON.stringify(extra));
    assert.deepEqual(await res.json(), { error: { message, type: 'BadRequestError', param, code: 400 } });
  }
  // Values vLLM takes: top_k -1 (disabled), penalties at their bounds, 20 logprobs.
  const fine = await postJson(sim, '/v1/chat/completions', {
    model: 'base-model', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }], top_k: -1, presence_penalty: 2, frequency_penalty: -2, logprobs: true, top_logprobs: 20,
  });
  assert.equal(fine.status, 200);
  await fine.json();
});
