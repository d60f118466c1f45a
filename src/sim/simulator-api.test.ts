/** HTTP tests for the simulator: non-streamed shapes, errors, models, headers, options. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SimulatorOptions } from './simulator.js';
import { resolveSimulatorOptions } from './simulator.js';
import { postJson, readSse, testSimulator } from './test-kit.js';

const CHAT = [
  { role: 'system', content: 'be brief' },
  { role: 'user', content: 'hello there world' },
];

test('non-streamed chat completion: shape, echo of the last user message, usage', async (t) => {
  const sim = await testSimulator(t, { mode: 'echo', ttftMs: 1, itlMs: 1 });
  const res = await postJson(sim, '/v1/chat/completions', { model: 'base-model', messages: CHAT });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  const body = (await res.json()) as Record<string, unknown>;
  assert.match(String(body.id), /^chatcmpl-[0-9a-f]{32}$/);
  assert.equal(body.object, 'chat.completion');
  assert.equal(typeof body.created, 'number');
  assert.equal(body.model, 'base-model');
  assert.deepEqual(body.choices, [
    { index: 0, message: { role: 'assistant', content: 'hello there world' }, logprobs: null, finish_reason: 'stop', stop_reason: null },
  ]);
  // ceil(len('be brief' + 'hello there world') / 4) = ceil(25 / 4)
  assert.deepEqual(body.usage, { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
});

test('non-streamed completion: max_tokens cuts with finish_reason length', async (t) => {
  const sim = await testSimulator(t, { mode: 'echo', ttftMs: 1, itlMs: 1 });
  const res = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'one two three four', max_tokens: 2 });
  assert.equal(res.status, 200);
  const body = (await res.json()) as Record<string, unknown>;
  assert.match(String(body.id), /^cmpl-[0-9a-f]{32}$/);
  assert.equal(body.object, 'text_completion');
  assert.deepEqual(body.choices, [{ index: 0, text: 'one two', logprobs: null, finish_reason: 'length', stop_reason: null }]);
  assert.deepEqual(body.usage, { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });
});

test('stop strings end the reply before them, with finish_reason stop and stop_reason, streamed or not', async (t) => {
  const sim = await testSimulator(t, { mode: 'echo', ttftMs: 0, itlMs: 0 });
  const prompt = 'one two three four five';
  const res = await postJson(sim, '/v1/completions', { model: 'base-model', prompt, stop: ['four', 'five'], max_tokens: 10 });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { choices: unknown[]; usage: { completion_tokens: number } };
  assert.deepEqual(body.choices, [{ index: 0, text: 'one two three ', logprobs: null, finish_reason: 'stop', stop_reason: 'four' }]);
  // As vLLM: the token that completed the stop string was generated.
  assert.equal(body.usage.completion_tokens, 4);

  const chat = await postJson(sim, '/v1/chat/completions', {
    model: 'base-model',
    messages: [{ role: 'user', content: prompt }],
    stop: 'two',
    include_stop_str_in_output: true,
  });
  const chatBody = (await chat.json()) as { choices: Array<{ message: { content: string }; finish_reason: string; stop_reason: string }> };
  assert.equal(chatBody.choices[0]?.message.content, 'one two');
  assert.equal(chatBody.choices[0]?.finish_reason, 'stop');
  assert.equal(chatBody.choices[0]?.stop_reason, 'two');

  const streamed = await postJson(sim, '/v1/completions', { model: 'base-model', prompt, stop: 'three', max_tokens: 3, stream: true });
  const events = await readSse(streamed);
  const chunks = events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data) as { choices: Array<{ text: string; finish_reason: string | null; stop_reason: string | null }> });
  assert.equal(chunks.map((c) => c.choices[0]?.text).join(''), 'one two ');
  // The stop string completes on the max_tokens-th token: the stop string wins, as in vLLM.
  assert.deepEqual(chunks.at(-1)?.choices[0], { index: 0, text: ' ', logprobs: null, finish_reason: 'stop', stop_reason: 'three' });

  const bad = await postJson(sim, '/v1/completions', { model: 'base-model', prompt, stop: [1] });
  assert.equal(bad.status, 400);
});

test('random mode: default length without max_tokens, adapter named in the response', async (t) => {
  const sim = await testSimulator(t, { loras: ['lora-a'], ttftMs: 0, itlMs: 0 });
  const res = await postJson(sim, '/v1/chat/completions', { model: 'lora-a', messages: CHAT });
  const body = (await res.json()) as { model: string; choices: Array<{ finish_reason: string }>; usage: { completion_tokens: number } };
  assert.equal(body.model, 'lora-a');
  assert.equal(body.usage.completion_tokens, 16);
  assert.equal(body.choices[0]?.finish_reason, 'stop');
});

test('unknown model is a vLLM 404; bad JSON and missing model are 400s', async (t) => {
  const sim = await testSimulator(t, { podName: 'pod-a' });
  const notFound = await postJson(sim, '/v1/completions', { model: 'nope', prompt: 'x' });
  assert.equal(notFound.status, 404);
  assert.equal(notFound.headers.get('x-inference-pod'), 'pod-a');
  assert.deepEqual(await notFound.json(), {
    error: { message: 'The model `nope` does not exist.', type: 'NotFoundError', param: 'model', code: 404 },
  });

  const badJson = await fetch(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
  assert.equal(badJson.status, 400);
  const badBody = (await badJson.json()) as { error: { type: string; code: number; message: string } };
  assert.equal(badBody.error.type, 'BadRequestError');
  assert.equal(badBody.error.code, 400);
  assert.match(badBody.error.message, /invalid JSON/);

  const empty = await fetch(`${sim.url}/v1/completions`, { method: 'POST' });
  assert.equal(empty.status, 400);
  await empty.body?.cancel();

  const tooLong = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'x', max_tokens: 1e9 });
  assert.equal(tooLong.status, 400);
  assert.match(((await tooLong.json()) as { error: { message: string } }).error.message, /maximum context length is \d+ tokens/);

  const noModel = await postJson(sim, '/v1/completions', { prompt: 'x' });
  assert.equal(noModel.status, 400);
  assert.equal(((await noModel.json()) as { error: { param: string } }).error.param, 'model');
});

test('unknown paths are 404 and wrong methods 405, in the vLLM error shape', async (t) => {
  const sim = await testSimulator(t);
  const cases: Array<[string, string, number, string]> = [
    ['GET', '/v1/nothing', 404, 'NotFoundError'],
    ['GET', '/', 404, 'NotFoundError'],
    ['GET', '/v1/completions', 405, 'MethodNotAllowedError'],
    ['POST', '/v1/models', 405, 'MethodNotAllowedError'],
  ];
  for (const [method, path, status, type] of cases) {
    const res = await fetch(`${sim.url}${path}`, { method });
    assert.equal(res.status, status, `${method} ${path}`);
    const body = (await res.json()) as { error: { type: string; code: number } };
    assert.equal(body.error.type, type);
    assert.equal(body.error.code, status);
  }
});

test('GET /v1/models lists the base model and its adapters with parents', async (t) => {
  const sim = await testSimulator(t, { model: 'meta/llama', loras: ['sql', 'chat'] });
  const res = await fetch(`${sim.url}/v1/models`);
  const body = (await res.json()) as { object: string; data: Array<Record<string, unknown>> };
  assert.equal(body.object, 'list');
  assert.deepEqual(
    body.data.map((m) => [m.id, m.object, m.owned_by, m.root, m.parent]),
    [
      ['meta/llama', 'model', 'vllm', 'meta/llama', null],
      ['sql', 'model', 'vllm', 'sql', 'meta/llama'],
      ['chat', 'model', 'vllm', 'chat', 'meta/llama'],
    ],
  );
  for (const m of body.data) {
    assert.equal(typeof m.created, 'number');
    assert.deepEqual(m.permission, []);
  }
  // vLLM's adapter cards leave max_model_len unset (null): only the base model's card carries the context length.
  assert.deepEqual(body.data.map((m) => m.max_model_len), [32768, null, null]);
});

test("GET /v1/models roots are vLLM's: the base model's path under every served name, each adapter's path", async (t) => {
  const sim = await testSimulator(t, { model: 'qwen', modelAliases: ['qwen-alias'], modelPath: '/models/qwen', loras: ['sql', 'plain'], loraPaths: { sql: '/adapters/sql' } });
  const load = await postJson(sim, '/v1/load_lora_adapter', { lora_name: 'late', lora_path: '/adapters/late' });
  assert.equal(load.status, 200);
  await load.text();
  const body = (await (await fetch(`${sim.url}/v1/models`)).json()) as { data: { id: string; root: string }[] };
  assert.deepEqual(
    body.data.map((m) => [m.id, m.root]),
    [['qwen', '/models/qwen'], ['qwen-alias', '/models/qwen'], ['sql', '/adapters/sql'], ['plain', 'plain'], ['late', '/adapters/late']],
  );
});

test('x-inference-pod is on every response: health, metrics, models, generation', async (t) => {
  const sim = await testSimulator(t, { podName: 'pod-7', ttftMs: 0, itlMs: 0 });
  const health = await fetch(`${sim.url}/health`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), '');
  const responses = [
    health,
    await fetch(`${sim.url}/metrics`),
    await fetch(`${sim.url}/v1/models`),
    await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'x', max_tokens: 1 }),
    await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'x', max_tokens: 1, stream: true }),
  ];
  for (const res of responses) {
    assert.equal(res.headers.get('x-inference-pod'), 'pod-7', res.url);
    if (!res.bodyUsed) await res.text();
  }
  const unnamed = await testSimulator(t);
  const res = await fetch(`${unnamed.url}/health`);
  assert.equal(res.headers.get('x-inference-pod'), null);
});

test('options: defaults filled in, impossible values rejected with the option named', () => {
  const resolved = resolveSimulatorOptions({ model: 'm' });
  assert.ok(Number.isInteger(resolved.seed), 'a random seed is picked and reported');
  // Changed with the step engine: ttftMs is now extra latency on top of the prefill step (default 0),
  // itlMs the decode step (default 10 ms), and the engine has its own knobs.
  assert.deepEqual({ ...resolved, seed: 0 }, {
    model: 'm',
    loras: [],
    modelAliases: [],
    modelPath: 'm',
    loraPaths: {},
    host: '127.0.0.1',
    port: 8000,
    podName: '',
    maxNumSeqs: 5,
    ttftMs: 0,
    itlMs: 10,
    mode: 'random',
    maxTokensDefault: 16,
    maxWaitingQueueLength: 1000,
    maxNumBatchedTokens: 2048,
    prefillTimePerTokenMs: 0.1,
    timeFactorUnderLoad: 1,
    itlStdDevMs: 0,
    kvCacheSize: 4096,
    blockSize: 16,
    enablePrefixCaching: true,
    maxLoras: 1,
    loraLoadTimeMs: 0,
    failureInjectionRate: 0,
    failureTypes: [],
    seed: 0,
    task: 'auto',
    embeddingDimensions: 1024,
    charsPerToken: 4,
    maxModelLen: 32768,
    apiKeys: [],
    kvEventsConfig: null,
    kvEventsFormat: 'map',
    h2c: false,
  });
  const bad: Array<[Partial<SimulatorOptions>, RegExp]> = [
    [{ maxNumSeqs: 0 }, /maxNumSeqs/],
    [{ port: 70000 }, /port/],
    [{ ttftMs: -1 }, /ttftMs/],
    [{ itlMs: NaN }, /itlMs/],
    [{ loras: ['m'] }, /LoRA/],
    [{ model: '' }, /model/],
    [{ kvCacheSize: 0 }, /kvCacheSize/],
    [{ blockSize: 1.5 }, /blockSize/],
    [{ timeFactorUnderLoad: 0.5 }, /timeFactorUnderLoad/],
    [{ itlMs: 10, itlStdDevMs: 4 }, /itlStdDevMs must be at most 30% of itlMs/],
    [{ failureInjectionRate: 101 }, /failureInjectionRate/],
    [{ failureTypes: ['nope' as never] }, /unknown failure types nope/],
    [{ maxLoras: 0 }, /maxLoras/],
    [{ seed: -1 }, /seed/],
    [{ task: 'draft' as never }, /task must be one of auto, generate, embed, classify, transcription/],
    [{ embeddingDimensions: 0 }, /embeddingDimensions/],
    [{ charsPerToken: 5 }, /charsPerToken/],
    [{ apiKeys: ['has space'] }, /apiKeys/],
  ];
  for (const [opts, message] of bad) {
    assert.throws(() => resolveSimulatorOptions({ model: 'm', ...opts }), message, JSON.stringify(opts));
  }
});

test('--max-model-len: /v1/models reports it, a request past it gets the 400, and more than the KV cache holds is refused at start', async (t) => {
  const sim = await testSimulator(t, { maxModelLen: 64 });
  const models = (await (await fetch(`${sim.url}/v1/models`)).json()) as { data: { max_model_len: number }[] };
  assert.deepEqual(models.data.map((m) => m.max_model_len), [64]);
  const ok = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'x', max_tokens: 8 });
  assert.equal(ok.status, 200);
  await ok.json();
  const tooLong = await postJson(sim, '/v1/completions', { model: 'base-model', prompt: 'x', max_tokens: 64 });
  assert.equal(tooLong.status, 400);
  assert.match(((await tooLong.json()) as { error: { message: string } }).error.message, /maximum context length is 64 tokens/);
  assert.throws(() => resolveSimulatorOptions({ model: 'm', kvCacheSize: 4, blockSize: 16, maxModelLen: 65 }), /max seq len \(65\) is larger than the maximum number of tokens that can be stored in KV cache \(64\)/);
  assert.equal(resolveSimulatorOptions({ model: 'm', kvCacheSize: 4, blockSize: 16 }).maxModelLen, 64, 'the default is what the cache holds when that is less than 32768');
});
