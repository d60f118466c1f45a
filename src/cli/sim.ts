/** `infergate sim --model NAME`: runs the vLLM-compatible simulator until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import type { SimulatorOptions } from '../sim/simulator.js';
import { DEFAULT_ENGINE_CONFIG } from '../sim/engine-config.js';
import { FAILURE_TYPES, isFailureType } from '../sim/failure-injection.js';
import { parseKvEventsConfig } from '../sim/kv-events/kv-events-config.js';
import { SIM_TASKS, isSimTask } from '../sim/sim-task.js';
import { startSimulator } from '../sim/simulator.js';
import { DEFAULT_EMBEDDING_DIMENSIONS, MAX_EMBEDDING_DIMENSIONS } from '../sim/simulator-options.js';
import { MAX_STD_DEV_FRACTION } from '../sim/step-cost.js';
import { tokenCountFlag } from '../sim/token-count.js';
import { MAX_CHARS_PER_TOKEN } from '../sim/tokenizer.js';
import { onShutdown } from './on-shutdown.js';
import { hostFlag, numberFlag, parseThenRun } from './parse-flags.js';

/** The flags as commander hands them over: strings, validated by `simOptionsFromFlags`. */
export interface SimFlags {
  model: string;
  lora?: string;
  /** vLLM's `--served-model-name`: the names clients use; the first one names the metrics and adapters' parent. */
  servedModelName?: string[];
  /** vLLM's `--enable-lora`: accepted so vLLM command lines run; adapters come from --lora or --lora-modules. */
  enableLora?: boolean;
  /** vLLM's `--lora-modules name=path` or `{"name":..., "path":...}`: the adapter names served. */
  loraModules?: string[];
  /** vLLM's `--num-gpu-blocks-override`: same as --kv-cache-size. */
  numGpuBlocksOverride?: string;
  host: string;
  port: string;
  podName?: string;
  maxNumSeqs: string;
  ttft?: string;
  timeToFirstToken?: string;
  itl?: string;
  interTokenLatency?: string;
  itlStdDev?: string;
  interTokenLatencyStdDev?: string;
  mode: string;
  maxWaitingQueueLength?: string;
  maxNumBatchedTokens?: string;
  prefillTimePerToken?: string;
  timeFactorUnderLoad?: string;
  kvCacheSize?: string;
  maxModelLen?: string;
  blockSize?: string;
  /** true from `--enable-prefix-caching`, false from `--no-enable-prefix-caching`, or the value given to the first. */
  enablePrefixCaching?: string | boolean;
  maxLoras?: string;
  loraLoadTime?: string;
  failureInjectionRate?: string;
  failureTypes?: string;
  seed?: string;
  charsPerToken?: string;
  task?: string;
  embeddingDimensions?: string;
  /** `--api-key` (repeatable, several keys after one flag too), as vLLM's. */
  apiKey?: string[];
  /** `--kv-events-config`: vLLM's KVEventsConfig as JSON. */
  kvEventsConfig?: string;
  /** `--kv-events-format`: map (default) or legacy. */
  kvEventsFormat?: string;
  /** `--h2c`: HTTP/2 cleartext with prior knowledge instead of HTTP/1.1. */
  h2c?: boolean;
}

const MAX_MS = 3_600_000;

/** The value of a flag that has a long llm-d-inference-sim name and a short one; giving both is a mistake. */
function aliased(short: string, long: string, a: string | undefined, b: string | undefined): [string, string] | undefined {
  if (a !== undefined && b !== undefined) throw new Error(`${short} and ${long} are the same flag; give one of them`);
  if (a !== undefined) return [short, a];
  return b === undefined ? undefined : [long, b];
}

function booleanFlag(flag: string, value: string | boolean): boolean {
  if (typeof value === 'boolean') return value;
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new Error(`${flag} must be true or false, got "${value}"`);
}

function failureTypesFlag(value: string): SimulatorOptions['failureTypes'] {
  const types = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = types.filter((t) => !isFailureType(t));
  if (unknown.length > 0) throw new Error(`--failure-types: unknown type "${unknown.join('", "')}"; use any of ${FAILURE_TYPES.join(', ')}`);
  return types.filter(isFailureType);
}

/** vLLM's `--lora-modules` entry, `name=path` or JSON `{"name": ..., "path": ...}`: the adapter's served name and path. */
function loraModule(module: string): { name: string; path: string } {
  const trimmed = module.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new Error(`--lora-modules: "${module}" is not valid JSON; use name=path or {"name":"...","path":"..."}`);
    }
    const { name, path } = (parsed ?? {}) as { name?: unknown; path?: unknown };
    if (typeof name !== 'string' || name === '') throw new Error(`--lora-modules: "${module}" has no "name"`);
    return { name, path: typeof path === 'string' && path !== '' ? path : name };
  }
  const name = trimmed.split('=')[0]?.trim() ?? '';
  if (name === '' || !trimmed.includes('=')) throw new Error(`--lora-modules: "${module}" must be name=path or {"name":"...","path":"..."}`);
  const path = trimmed.slice(trimmed.indexOf('=') + 1).trim();
  return { name, path: path === '' ? name : path };
}

/** vLLM's rule: `--api-key` wins over the VLLM_API_KEY environment variable; neither means no key is checked. */
function apiKeysOf(flags: SimFlags, env: NodeJS.ProcessEnv): string[] | undefined {
  const keys = flags.apiKey ?? (env.VLLM_API_KEY ? [env.VLLM_API_KEY] : undefined);
  if (keys?.some((k) => k === '' || /\s/.test(k))) throw new Error('--api-key (or VLLM_API_KEY) must be non-empty and contain no whitespace');
  return keys;
}

/** Turns flags (and VLLM_API_KEY from `env`) into simulator options; throws an Error whose message names the bad flag. */
export function simOptionsFromFlags(flags: SimFlags, env: NodeJS.ProcessEnv = process.env): SimulatorOptions {
  if (flags.mode !== 'echo' && flags.mode !== 'random') {
    throw new Error(`--mode must be echo or random, got "${flags.mode}"`);
  }
  // The simulator refuses an empty name too, but as a failure to start (exit 1) naming no flag.
  if (flags.model.trim() === '') throw new Error('--model must name the model served, got ""');
  if (flags.servedModelName?.some((n) => n.trim() === '')) throw new Error('--served-model-name: every name must be non-empty');
  const loras = (flags.lora ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const loraPaths: Record<string, string> = {};
  for (const m of flags.loraModules ?? []) {
    const { name, path } = loraModule(m);
    if (!loras.includes(name)) loras.push(name);
    loraPaths[name] = path;
  }
  const opts: SimulatorOptions = {
    model: flags.servedModelName?.[0] ?? flags.model,
    loras,
    ...((flags.servedModelName?.length ?? 0) > 1 ? { modelAliases: flags.servedModelName!.slice(1) } : {}),
    host: flags.host,
    port: numberFlag('--port', flags.port, 0, 65535, true),
    maxNumSeqs: numberFlag('--max-num-seqs', flags.maxNumSeqs, 1, 1_000_000, true),
    mode: flags.mode,
  };
  // /v1/models reports them as vLLM does: the base model's root is what --model named, an adapter's its path.
  if (Object.keys(loraPaths).length > 0) opts.loraPaths = loraPaths;
  if (flags.servedModelName !== undefined && flags.servedModelName.length > 0) opts.modelPath = flags.model;
  if (flags.podName !== undefined) opts.podName = flags.podName;
  const ms = (pair: [string, string] | undefined): number | undefined => (pair === undefined ? undefined : numberFlag(pair[0], pair[1], 0, MAX_MS, false));
  const ttft = ms(aliased('--ttft', '--time-to-first-token', flags.ttft, flags.timeToFirstToken));
  if (ttft !== undefined) opts.ttftMs = ttft;
  const itl = ms(aliased('--itl', '--inter-token-latency', flags.itl, flags.interTokenLatency));
  if (itl !== undefined) opts.itlMs = itl;
  const stdDevFlag = aliased('--itl-std-dev', '--inter-token-latency-std-dev', flags.itlStdDev, flags.interTokenLatencyStdDev);
  const stdDev = ms(stdDevFlag);
  if (stdDev !== undefined) {
    const limit = (itl ?? DEFAULT_ENGINE_CONFIG.itlMs) * MAX_STD_DEV_FRACTION;
    if (stdDev > limit) throw new Error(`${stdDevFlag![0]} must be at most 30% of the inter-token latency (${limit} ms), got "${stdDevFlag![1]}"`);
    opts.itlStdDevMs = stdDev;
  }
  const f = flags;
  if (f.maxWaitingQueueLength !== undefined) opts.maxWaitingQueueLength = numberFlag('--max-waiting-queue-length', f.maxWaitingQueueLength, 0, 1_000_000, true);
  if (f.maxNumBatchedTokens !== undefined) opts.maxNumBatchedTokens = numberFlag('--max-num-batched-tokens', f.maxNumBatchedTokens, 1, 10_000_000, true);
  if (f.prefillTimePerToken !== undefined) opts.prefillTimePerTokenMs = numberFlag('--prefill-time-per-token', f.prefillTimePerToken, 0, MAX_MS, false);
  if (f.timeFactorUnderLoad !== undefined) opts.timeFactorUnderLoad = numberFlag('--time-factor-under-load', f.timeFactorUnderLoad, 1, 1000, false);
  const kvCacheSize = aliased('--kv-cache-size', '--num-gpu-blocks-override', f.kvCacheSize, f.numGpuBlocksOverride);
  if (kvCacheSize !== undefined) opts.kvCacheSize = numberFlag(kvCacheSize[0], kvCacheSize[1], 1, 100_000_000, true);
  if (f.blockSize !== undefined) opts.blockSize = numberFlag('--block-size', f.blockSize, 1, 1024, true);
  if (f.maxModelLen !== undefined) opts.maxModelLen = tokenCountFlag('--max-model-len', f.maxModelLen);
  if (f.enablePrefixCaching !== undefined) opts.enablePrefixCaching = booleanFlag('--enable-prefix-caching', f.enablePrefixCaching);
  if (f.maxLoras !== undefined) opts.maxLoras = numberFlag('--max-loras', f.maxLoras, 1, 1024, true);
  if (f.loraLoadTime !== undefined) opts.loraLoadTimeMs = numberFlag('--lora-load-time', f.loraLoadTime, 0, MAX_MS, false);
  if (f.failureInjectionRate !== undefined) opts.failureInjectionRate = numberFlag('--failure-injection-rate', f.failureInjectionRate, 0, 100, false);
  if (f.failureTypes !== undefined) opts.failureTypes = failureTypesFlag(f.failureTypes);
  if (f.seed !== undefined) opts.seed = numberFlag('--seed', f.seed, 0, 2 ** 32 - 1, true);
  if (f.charsPerToken !== undefined) opts.charsPerToken = numberFlag('--chars-per-token', f.charsPerToken, 1, MAX_CHARS_PER_TOKEN, true);
  if (f.task !== undefined) {
    if (!isSimTask(f.task)) throw new Error(`--task must be one of ${SIM_TASKS.join(', ')}, got "${f.task}"`);
    opts.task = f.task;
  }
  if (f.embeddingDimensions !== undefined) {
    opts.embeddingDimensions = numberFlag('--embedding-dimensions', f.embeddingDimensions, 1, MAX_EMBEDDING_DIMENSIONS, true);
  }
  const apiKeys = apiKeysOf(f, env);
  if (apiKeys !== undefined) opts.apiKeys = apiKeys;
  if (f.kvEventsConfig !== undefined) opts.kvEventsConfig = parseKvEventsConfig(f.kvEventsConfig);
  if (f.kvEventsFormat !== undefined) {
    if (f.kvEventsFormat !== 'map' && f.kvEventsFormat !== 'legacy') throw new Error(`--kv-events-format must be map or legacy, got "${f.kvEventsFormat}"`);
    opts.kvEventsFormat = f.kvEventsFormat;
  }
  if (f.h2c === true) opts.h2c = true;
  return opts;
}

export function registerSimCommand(program: Command): void {
  const d = DEFAULT_ENGINE_CONFIG;
  program
    .command('sim')
    .description('run a vLLM-compatible simulator: every endpoint vLLM serves (chat, completions, responses, Anthropic messages, embeddings, pooling, classify, score, rerank, tokenize, audio), /v1/models, LoRA load/unload, /health and vLLM /metrics')
    .requiredOption('--model <name>', 'base model name served')
    .option('--lora <a,b>', 'LoRA adapter names served on top of the base model (comma-separated)')
    .option('--served-model-name <name...>', "as vLLM: the model names clients use instead of --model's, every one served and listed; the first names the metrics' model_name")
    .option('--enable-lora', 'as vLLM; accepted and ignored: adapters are served from --lora or --lora-modules')
    .option('--lora-modules <name=path...>', 'as vLLM: adapters served, each name=path or {"name":"...","path":"..."} (the path is ignored)')
    .option('--num-gpu-blocks-override <blocks>', 'as vLLM: same as --kv-cache-size')
    .option('--host <host>', 'address to listen on', hostFlag, '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 = any free port)', '8000')
    .option('--pod-name <name>', 'sent back in the x-inference-pod header of every response')
    .option('--max-num-seqs <n>', 'requests running at once; the rest wait in FCFS order', String(d.maxNumSeqs))
    .option('--ttft <ms>', `extra latency before the first token, on top of queueing and prefill (default ${d.ttftMs})`)
    .option('--time-to-first-token <ms>', 'same as --ttft (llm-d-inference-sim name)')
    .option('--itl <ms>', `decode step time with one running request, i.e. its inter-token latency (default ${d.itlMs})`)
    .option('--inter-token-latency <ms>', 'same as --itl')
    .option('--itl-std-dev <ms>', 'standard deviation of the decode step, at most 30% of --itl (default 0)')
    .option('--inter-token-latency-std-dev <ms>', 'same as --itl-std-dev')
    .option('--mode <mode>', 'echo (repeat the last user message) or random (canned sentences)', 'random')
    .option('--max-waiting-queue-length <n>', `requests waiting beyond a full batch; one more gets a 429 (default ${d.maxWaitingQueueLength})`)
    .option('--max-num-batched-tokens <n>', `token budget of one step; longer prompts are prefilled in chunks (default ${d.maxNumBatchedTokens})`)
    .option('--prefill-time-per-token <ms>', `step time per uncached prompt token (default ${d.prefillTimePerTokenMs})`)
    .option('--time-factor-under-load <x>', `ITL multiplier with --max-num-seqs running, linear in between (default ${d.timeFactorUnderLoad})`)
    .option('--kv-cache-size <blocks>', `KV-cache size in blocks (num_gpu_blocks; default ${d.kvCacheSize})`)
    .option('--max-model-len <tokens>', "as vLLM: the context, prompt plus answer, in tokens (2048, or vLLM's 1k = 1000, 1K = 1024, 1m, 1M); default the smaller of 32768 and what the KV cache holds, more than it holds is refused")
    .option('--block-size <tokens>', `tokens per KV block (default ${d.blockSize})`)
    .option('--enable-prefix-caching [bool]', 'reuse cached prompt blocks (default true)')
    .option('--no-enable-prefix-caching', 'prefill every prompt in full')
    .option('--max-loras <n>', `distinct LoRA adapters in one batch (default ${d.maxLoras})`)
    .option('--lora-load-time <ms>', `added to the step that loads an adapter (default ${d.loraLoadTimeMs})`)
    .option('--failure-injection-rate <percent>', 'share of requests answered with an injected error, 0-100 (default 0)')
    .option('--failure-types <a,b>', `errors to inject: ${FAILURE_TYPES.join(', ')} (default all)`)
    .option('--seed <n>', 'seed for step jitter, failure injection and random replies (default: random)')
    .option('--chars-per-token <n>', `characters per token of the simulator's tokenizer, 1-${MAX_CHARS_PER_TOKEN}: 4 is about English prose; fewer model code, JSON or other languages, where approximate prefix scoring's characters / 4 estimate is off (default 4)`)
    .option('--task <task>', `APIs served, as vLLM's --task: ${SIM_TASKS.join(', ')} (default auto: all of them)`)
    .option('--embedding-dimensions <n>', `length of the vectors /v1/embeddings and /pooling return (default ${DEFAULT_EMBEDDING_DIMENSIONS})`)
    .option('--api-key <key...>', 'require Authorization: Bearer <key> on every /v1 path, as vLLM (default: $VLLM_API_KEY, else none)')
    .option('--kv-events-config <json>', 'publish KV-cache events over ZMQ as vLLM: {"enable_kv_cache_events":true,"publisher":"zmq","endpoint":"tcp://*:5557","replay_endpoint":"tcp://*:5558","topic":"kv@<ip:port>@<model>","buffer_steps":10000} (default off)')
    .option('--kv-events-format <format>', 'KV event encoding: map (vLLM >= 0.26, events as maps with "type") or legacy (tagged arrays) (default map)')
    .option('--h2c', 'serve HTTP/2 cleartext with prior knowledge (h2c) instead of HTTP/1.1, for InferencePools with appProtocol kubernetes.io/h2c (default off)')
    .action(
      parseThenRun(simOptionsFromFlags, async (opts) => {
        const sim = await startSimulator(opts);
        // Handlers first: a signal sent as soon as the line below is read must not meet Node's default (exit at once).
        onShutdown(() => sim.close());
        const adapters = sim.options.loras.length > 0 ? ` (adapters: ${sim.options.loras.join(', ')})` : '';
        const guarded = sim.options.apiKeys.length > 0 ? ', API key required on /v1' : '';
        const protocol = sim.options.h2c ? ', h2c (HTTP/2 cleartext, prior knowledge)' : '';
        console.log(`infergate sim serving ${sim.options.model}${adapters} on ${sim.url} (seed ${sim.options.seed}, task ${sim.options.task}${guarded}${protocol})`);
        if (sim.kvEvents !== null) {
          const replay = sim.kvEvents.replayEndpoint === null ? '' : `, replay on ${sim.kvEvents.replayEndpoint}`;
          console.log(`KV events (${sim.options.kvEventsFormat}) on ${sim.kvEvents.endpoint}${replay}, topic "${sim.options.kvEventsConfig?.topic ?? ''}"`);
        }
      }),
    );
}
