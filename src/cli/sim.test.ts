/** Tests for the `infergate sim` command: flags -> simulator options, and the flags commander registers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import type { SimFlags } from './sim.js';
import { registerSimCommand, simOptionsFromFlags } from './sim.js';

const DEFAULTS: SimFlags = { model: 'm', host: '127.0.0.1', port: '8000', maxNumSeqs: '5', mode: 'random' };
/** What DEFAULTS turn into: the options every flag set starts from. */
const DEFAULT_OPTIONS = { model: 'm', loras: [], host: '127.0.0.1', port: 8000, maxNumSeqs: 5, mode: 'random' };

test('simOptionsFromFlags turns flags into simulator options', () => {
  assert.deepEqual(
    simOptionsFromFlags({ ...DEFAULTS, lora: 'a, b,,c', podName: 'p', ttft: '12.5', itl: '0', mode: 'echo', port: '0' }),
    { model: 'm', loras: ['a', 'b', 'c'], host: '127.0.0.1', port: 0, maxNumSeqs: 5, mode: 'echo', podName: 'p', ttftMs: 12.5, itlMs: 0 },
  );
  assert.deepEqual(simOptionsFromFlags(DEFAULTS), DEFAULT_OPTIONS);
});

test("simOptionsFromFlags accepts vLLM's model and LoRA flags", () => {
  const opts = simOptionsFromFlags({
    ...DEFAULTS,
    model: '/models/qwen',
    servedModelName: ['qwen', 'qwen-alias'],
    enableLora: true,
    lora: 'a',
    loraModules: ['sql=/adapters/sql', '{"name":"chat","path":"/adapters/chat"}', 'a=/x'],
    numGpuBlocksOverride: '128',
  });
  assert.equal(opts.model, 'qwen');
  assert.deepEqual(opts.modelAliases, ['qwen-alias'], 'every served name is served, as vLLM');
  assert.deepEqual(opts.loras, ['a', 'sql', 'chat']);
  // /v1/models' roots, as vLLM's: --model's path for the base model, each module's path for its adapter.
  assert.equal(opts.modelPath, '/models/qwen');
  assert.deepEqual(opts.loraPaths, { sql: '/adapters/sql', chat: '/adapters/chat', a: '/x' });
  assert.equal(opts.kvCacheSize, 128);
  assert.throws(() => simOptionsFromFlags({ ...DEFAULTS, loraModules: ['sql'] }), /--lora-modules: "sql" must be name=path/);
  assert.throws(() => simOptionsFromFlags({ ...DEFAULTS, kvCacheSize: '1', numGpuBlocksOverride: '2' }), /same flag/);
  // Usage errors naming the flag (exit 2), not the simulator's own "model must be a non-empty string" (exit 1).
  assert.throws(() => simOptionsFromFlags({ ...DEFAULTS, model: '' }), /^Error: --model must name the model served/);
  assert.throws(() => simOptionsFromFlags({ ...DEFAULTS, servedModelName: ['qwen', ''] }), /^Error: --served-model-name: every name must be non-empty/);
});

test('simOptionsFromFlags maps the engine flags, with llm-d-inference-sim names and aliases', () => {
  const opts = simOptionsFromFlags({
    ...DEFAULTS,
    timeToFirstToken: '20',
    interTokenLatency: '15',
    interTokenLatencyStdDev: '4.5',
    maxWaitingQueueLength: '0',
    maxNumBatchedTokens: '512',
    prefillTimePerToken: '0.25',
    timeFactorUnderLoad: '2.5',
    kvCacheSize: '1024',
    blockSize: '32',
    enablePrefixCaching: false,
    maxLoras: '2',
    loraLoadTime: '100',
    failureInjectionRate: '12.5',
    failureTypes: 'rate_limit, server_error',
    seed: '42',
    charsPerToken: '3',
  });
  assert.deepEqual(opts, {
    ...DEFAULT_OPTIONS,
    ttftMs: 20,
    itlMs: 15,
    itlStdDevMs: 4.5,
    maxWaitingQueueLength: 0,
    maxNumBatchedTokens: 512,
    prefillTimePerTokenMs: 0.25,
    timeFactorUnderLoad: 2.5,
    kvCacheSize: 1024,
    blockSize: 32,
    enablePrefixCaching: false,
    maxLoras: 2,
    loraLoadTimeMs: 100,
    failureInjectionRate: 12.5,
    failureTypes: ['rate_limit', 'server_error'],
    seed: 42,
    charsPerToken: 3,
  });
  const prefix: Array<[string | boolean, boolean]> = [[true, true], ['false', false], ['TRUE', true], [false, false]];
  for (const [value, want] of prefix) assert.equal(simOptionsFromFlags({ ...DEFAULTS, enablePrefixCaching: value }).enablePrefixCaching, want);
});

test('simOptionsFromFlags names the bad flag', () => {
  const cases: Array<[Partial<SimFlags>, RegExp]> = [
    [{ port: 'abc' }, /--port must be an integer from 0 to 65535, got "abc"/],
    [{ port: '70000' }, /--port/],
    [{ port: '' }, /--port/],
    [{ maxNumSeqs: '0' }, /--max-num-seqs/],
    [{ maxNumSeqs: '2.5' }, /--max-num-seqs/],
    [{ ttft: '-1' }, /--ttft must be a number/],
    [{ itl: 'fast' }, /--itl/],
    [{ mode: 'loud' }, /--mode must be echo or random, got "loud"/],
    [{ ttft: '1', timeToFirstToken: '2' }, /--ttft and --time-to-first-token are the same flag/],
    [{ interTokenLatency: 'x' }, /--inter-token-latency must be a number/],
    [{ itl: '10', itlStdDev: '4' }, /--itl-std-dev must be at most 30% of the inter-token latency \(3 ms\)/],
    [{ itlStdDev: '3.5' }, /--itl-std-dev must be at most 30%/],
    [{ maxWaitingQueueLength: '-1' }, /--max-waiting-queue-length must be an integer/],
    [{ maxNumBatchedTokens: '0' }, /--max-num-batched-tokens/],
    [{ prefillTimePerToken: 'slow' }, /--prefill-time-per-token must be a number/],
    [{ timeFactorUnderLoad: '0.5' }, /--time-factor-under-load must be a number from 1 to 1000/],
    [{ kvCacheSize: '0' }, /--kv-cache-size/],
    [{ blockSize: '2.5' }, /--block-size/],
    [{ enablePrefixCaching: 'maybe' }, /--enable-prefix-caching must be true or false, got "maybe"/],
    [{ maxLoras: '0' }, /--max-loras/],
    [{ loraLoadTime: '-5' }, /--lora-load-time/],
    [{ failureInjectionRate: '101' }, /--failure-injection-rate must be a number from 0 to 100/],
    [{ failureTypes: 'rate_limit,oops' }, /--failure-types: unknown type "oops"; use any of rate_limit, invalid_api_key/],
    [{ seed: '1.5' }, /--seed must be an integer/],
    [{ charsPerToken: '5' }, /--chars-per-token must be an integer from 1 to 4/],
    [{ charsPerToken: '0' }, /--chars-per-token/],
  ];
  for (const [flags, message] of cases) {
    assert.throws(() => simOptionsFromFlags({ ...DEFAULTS, ...flags }), message, JSON.stringify(flags));
  }
});

test('registerSimCommand adds `sim` with its flags and defaults', () => {
  const program = new Command('infergate');
  registerSimCommand(program);
  const sim = program.commands.find((c) => c.name() === 'sim');
  assert.ok(sim);
  const flags = sim.options.map((o) => o.long);
  assert.deepEqual(flags, [
    '--model', '--lora', '--served-model-name', '--enable-lora', '--lora-modules', '--num-gpu-blocks-override', '--host', '--port', '--pod-name', '--max-num-seqs',
    '--ttft', '--time-to-first-token', '--itl', '--inter-token-latency', '--itl-std-dev', '--inter-token-latency-std-dev',
    '--mode', '--max-waiting-queue-length', '--max-num-batched-tokens', '--prefill-time-per-token', '--time-factor-under-load',
    '--kv-cache-size', '--max-model-len', '--block-size', '--enable-prefix-caching', '--no-enable-prefix-caching', '--max-loras', '--lora-load-time',
    '--failure-injection-rate', '--failure-types', '--seed', '--chars-per-token', '--task', '--embedding-dimensions', '--api-key', '--kv-events-config', '--kv-events-format', '--h2c',
  ]);
  assert.equal(sim.options.find((o) => o.long === '--model')?.mandatory, true);
});

test('commander hands the flags over as simOptionsFromFlags expects (aliases, --no-enable-prefix-caching)', async () => {
  const program = new Command('infergate').exitOverride();
  registerSimCommand(program);
  const sim = program.commands.find((c) => c.name() === 'sim')!;
  let got: SimFlags | undefined;
  sim.action((flags: SimFlags) => {
    got = flags;
  });
  await program.parseAsync(['sim', '--model', 'm', '--time-to-first-token', '5', '--no-enable-prefix-caching', '--failure-types', 'rate_limit'], { from: 'user' });
  const opts = simOptionsFromFlags(got!);
  assert.equal(opts.ttftMs, 5);
  assert.equal(opts.enablePrefixCaching, false);
  assert.deepEqual(opts.failureTypes, ['rate_limit']);
  assert.equal(opts.maxNumSeqs, 5);
});

test('--task, --embedding-dimensions and --api-key (or VLLM_API_KEY, which --api-key overrides)', async () => {
  assert.deepEqual(simOptionsFromFlags({ ...DEFAULTS, task: 'embed', embeddingDimensions: '384' }, {}), {
    ...DEFAULT_OPTIONS,
    task: 'embed',
    embeddingDimensions: 384,
  });
  assert.deepEqual(simOptionsFromFlags(DEFAULTS, { VLLM_API_KEY: 'from-env' }).apiKeys, ['from-env']);
  assert.deepEqual(simOptionsFromFlags({ ...DEFAULTS, apiKey: ['a', 'b'] }, { VLLM_API_KEY: 'from-env' }).apiKeys, ['a', 'b']);
  assert.equal(simOptionsFromFlags(DEFAULTS, { VLLM_API_KEY: '' }).apiKeys, undefined);
  const bad: Array<[Partial<SimFlags>, RegExp]> = [
    [{ task: 'draft' }, /--task must be one of auto, generate, embed, classify, transcription, got "draft"/],
    [{ embeddingDimensions: '0' }, /--embedding-dimensions must be an integer from 1/],
    [{ apiKey: ['two words'] }, /--api-key/],
  ];
  for (const [flags, message] of bad) assert.throws(() => simOptionsFromFlags({ ...DEFAULTS, ...flags }, {}), message);

  const program = new Command('infergate').exitOverride();
  registerSimCommand(program);
  let got: SimFlags | undefined;
  program.commands.find((c) => c.name() === 'sim')!.action((flags: SimFlags) => {
    got = flags;
  });
  await program.parseAsync(['sim', '--api-key', 'k1', '--api-key', 'k2', '--model', 'm', '--task', 'generate'], { from: 'user' });
  assert.deepEqual(simOptionsFromFlags(got!, {}).apiKeys, ['k1', 'k2']);
});

test('--h2c: the simulator serves HTTP/2 cleartext with prior knowledge; off by default', async () => {
  const program = new Command('infergate').exitOverride();
  registerSimCommand(program);
  const sim = program.commands.find((c) => c.name() === 'sim')!;
  let got: SimFlags | undefined;
  sim.action((flags: SimFlags) => {
    got = flags;
  });
  await program.parseAsync(['sim', '--model', 'm', '--h2c'], { from: 'user' });
  assert.equal(simOptionsFromFlags(got!, {}).h2c, true);
  assert.equal(simOptionsFromFlags(DEFAULTS, {}).h2c, undefined);
});

test('--kv-events-config takes vLLM\'s JSON; --kv-events-format map or legacy; mistakes name the flag', async () => {
  const program = new Command('infergate').exitOverride();
  registerSimCommand(program);
  let got: SimFlags | undefined;
  program.commands.find((c) => c.name() === 'sim')!.action((flags: SimFlags) => {
    got = flags;
  });
  const json = '{"enable_kv_cache_events":true,"publisher":"zmq","endpoint":"tcp://*:5556","topic":"kv@10.0.0.5:8000@m"}';
  await program.parseAsync(['sim', '--model', 'm', '--kv-events-config', json, '--kv-events-format', 'legacy'], { from: 'user' });
  const opts = simOptionsFromFlags(got!, {});
  assert.equal(opts.kvEventsConfig?.endpoint, 'tcp://*:5556');
  assert.equal(opts.kvEventsConfig?.publisher, 'zmq');
  assert.equal(opts.kvEventsFormat, 'legacy');
  assert.throws(() => simOptionsFromFlags({ ...DEFAULTS, kvEventsFormat: 'msgpack' }), /--kv-events-format must be map or legacy/);
  assert.throws(() => simOptionsFromFlags({ ...DEFAULTS, kvEventsConfig: '{"enable_kv_events":true}' }), /--kv-events-config: unknown field `enable_kv_events`/);
});

test("--max-model-len as vLLM spells it: digits, or 1k = 1000, 1K = 1024, 1m, 1M; anything else names the flag", () => {
  const cases: [string, number][] = [['2048', 2048], ['32k', 32_000], ['32K', 32_768], ['1m', 1_000_000], ['1M', 1_048_576], ['1.5k', 1500]];
  for (const [v, want] of cases) assert.equal(simOptionsFromFlags({ ...DEFAULTS, maxModelLen: v }).maxModelLen, want, v);
  for (const v of ['0', '-1', 'big', '2g', '']) assert.throws(() => simOptionsFromFlags({ ...DEFAULTS, maxModelLen: v }), /--max-model-len must be a token count such as 2048 or 32k/, v);
});
