/** The options of one simulated vLLM pod, their defaults, and the checks that reject a pod that could not run. */
import { MAX_MODEL_LEN } from './model-list.js';
import type { KvEventFormat } from '../kvevents/wire-format.js';
import type { FailureType } from './failure-injection.js';
import type { KvEventsConfig } from './kv-events/kv-events-config.js';
import type { ReplyMode } from './reply-text.js';
import { DEFAULT_ENGINE_CONFIG as D } from './engine-config.js';
import { FAILURE_TYPES, isFailureType } from './failure-injection.js';
import type { SimTask } from './sim-task.js';
import { SIM_TASKS, isSimTask } from './sim-task.js';
import { MAX_STD_DEV_FRACTION } from './step-cost.js';
import { CHARS_PER_TOKEN } from './token-estimate.js';
import { MAX_CHARS_PER_TOKEN } from './tokenizer.js';

/** Length of every embedding by default: what many embedding models (bge-large, e5-large, Qwen3-Embedding-0.6B) have. */
export const DEFAULT_EMBEDDING_DIMENSIONS = 1024;
/** Past this an embedding body would be megabytes per input. */
export const MAX_EMBEDDING_DIMENSIONS = 65_536;

/** How to run one simulated vLLM pod. Engine knobs are documented (with defaults) in engine-config.ts. */
export interface SimulatorOptions {
  /** Base model name served. */
  model: string;
  /** LoRA adapter names; each one's `parent` is `model`. */
  loras?: string[];
  /** More names of the base model (vLLM's `--served-model-name` after the first): served and listed like `model`. */
  modelAliases?: string[];
  /** What vLLM's `--model` named (its path or Hugging Face id): the base model's `root` in /v1/models. Default `model`. */
  modelPath?: string;
  /** Adapters' paths (vLLM's `--lora-modules name=path`): each one's `root` in /v1/models; one without reports its name. */
  loraPaths?: Record<string, string>;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8000; 0 picks an ephemeral port. */
  port?: number;
  /** Sent back as header `x-inference-pod` on every response; '' (the default) sends none. */
  podName?: string;
  /** Default 5: at most this many requests run at once, the rest wait FCFS. */
  maxNumSeqs?: number;
  /** Extra latency before each request's first token, on top of queueing and prefill steps, in ms (default 0). */
  ttftMs?: number;
  /** Decode step time with one running request, i.e. its inter-token latency, in ms (default 10). */
  itlMs?: number;
  /** echo: reply with the last user message or the prompt; random: canned sentences. Default random. */
  mode?: ReplyMode;
  /** Random mode's length when the request has no max_tokens (default 16); echo always echoes the whole input. */
  maxTokensDefault?: number;
  /** Default 1000; a request arriving to a full queue gets a 429. */
  maxWaitingQueueLength?: number;
  /** Default 2048 tokens per step. */
  maxNumBatchedTokens?: number;
  /** Default 0.1 ms per uncached prompt token. */
  prefillTimePerTokenMs?: number;
  /** Default 1 (ITL does not grow with the batch); ITL with maxNumSeqs running = itlMs x this. */
  timeFactorUnderLoad?: number;
  /** Default 0; jitter of the decode step, at most 30% of itlMs. */
  itlStdDevMs?: number;
  /** Default 4096 blocks (num_gpu_blocks). */
  kvCacheSize?: number;
  /** Default 16 tokens per block. */
  blockSize?: number;
  /** Default true. */
  enablePrefixCaching?: boolean;
  /** Default 1 adapter per batch, as vLLM and llm-d-inference-sim. */
  maxLoras?: number;
  /** Default 0 ms per adapter load. */
  loraLoadTimeMs?: number;
  /** Percent (0..100) of requests answered with an injected error; default 0. */
  failureInjectionRate?: number;
  /** Which errors to inject; empty (the default) means all. */
  failureTypes?: FailureType[];
  /** Seeds step jitter, failure injection and random replies; by default a random seed (reported in `options.seed`). */
  seed?: number;
  /** Which APIs the pod serves, like vLLM's `--task`; `auto` (the default) serves them all. */
  task?: SimTask;
  /** Length of the vectors `/v1/embeddings` and `/pooling` return (default 1024). */
  embeddingDimensions?: number;
  /**
   * Characters per token of the deterministic tokenizer, 1-4 (default 4, about English prose). Fewer model code,
   * JSON or other languages, where a gateway's characters / 4 estimate (approximate prefix scoring) is off.
   */
  charsPerToken?: number;
  /**
   * vLLM's `--max-model-len`: the context (prompt plus answer) in tokens. Default the smaller of 32,768 and what
   * the KV cache holds; more than the KV cache holds is refused at start, as vLLM refuses it.
   */
  maxModelLen?: number;
  /** vLLM's `--api-key`: when non-empty, every `/v1` path needs `Authorization: Bearer <one of them>`. Default none. */
  apiKeys?: string[];
  /** vLLM's `--kv-events-config`, parsed (kv-events/kv-events-config.ts); null (the default) publishes no KV events. */
  kvEventsConfig?: KvEventsConfig | null;
  /** How KV events are encoded: `map` (vLLM >= 0.26, the default) or `legacy` tagged arrays. */
  kvEventsFormat?: KvEventFormat;
  /**
   * Serve HTTP/2 cleartext with prior knowledge (h2c) instead of HTTP/1.1, as a pod behind an InferencePool with
   * `appProtocol: kubernetes.io/h2c` is spoken to. Default false.
   */
  h2c?: boolean;
}

function check(name: string, value: number, { min = 0, max = Infinity, integer = false } = {}): number {
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    const kind = integer ? 'an integer' : 'a number';
    const range = max === Infinity ? `at least ${min}` : `from ${min} to ${max}`;
    throw new RangeError(`${name} must be ${kind} ${range}, got ${value}`);
  }
  return value;
}

function kvEventsFormatOf(format: KvEventFormat | undefined): KvEventFormat {
  if (format === undefined) return 'map';
  if (format !== 'map' && format !== 'legacy') throw new TypeError(`kvEventsFormat must be map or legacy, got ${String(format)}`);
  return format;
}

/** Fills in defaults and rejects options a pod could not run with; messages name the option. */
export function resolveSimulatorOptions(opts: SimulatorOptions): Required<SimulatorOptions> {
  if (typeof opts.model !== 'string' || opts.model === '') throw new TypeError('model must be a non-empty string');
  const loras = [...new Set(opts.loras ?? [])];
  if (loras.some((l) => l === '' || l === opts.model)) {
    throw new TypeError(`LoRA adapter names must be non-empty and differ from the base model: ${loras.join(', ')}`);
  }
  const modelAliases = [...new Set(opts.modelAliases ?? [])].filter((a) => a !== opts.model);
  if (modelAliases.some((a) => typeof a !== 'string' || a === '' || loras.includes(a))) {
    throw new TypeError(`model aliases must be non-empty and differ from the LoRA adapters' names: ${modelAliases.join(', ')}`);
  }
  const mode = opts.mode ?? 'random';
  if (mode !== 'echo' && mode !== 'random') throw new TypeError(`mode must be echo or random, got ${String(mode)}`);
  const task = opts.task ?? 'auto';
  if (!isSimTask(task)) throw new TypeError(`task must be one of ${SIM_TASKS.join(', ')}, got ${String(task)}`);
  const apiKeys = [...new Set(opts.apiKeys ?? [])];
  if (apiKeys.some((k) => typeof k !== 'string' || k === '' || /\s/.test(k))) {
    throw new TypeError('apiKeys must be non-empty strings without whitespace (they are sent as `Authorization: Bearer <key>`)');
  }
  const failureTypes = [...new Set(opts.failureTypes ?? [])];
  const unknown = failureTypes.filter((t) => !isFailureType(t));
  if (unknown.length > 0) throw new TypeError(`unknown failure types ${unknown.join(', ')}; use any of ${FAILURE_TYPES.join(', ')}`);
  const itlMs = check('itlMs', opts.itlMs ?? D.itlMs);
  const itlStdDevMs = check('itlStdDevMs', opts.itlStdDevMs ?? D.itlStdDevMs);
  if (itlStdDevMs > itlMs * MAX_STD_DEV_FRACTION) {
    throw new RangeError(`itlStdDevMs must be at most 30% of itlMs (${itlMs * MAX_STD_DEV_FRACTION} ms), got ${itlStdDevMs}`);
  }
  const int = { integer: true, min: 1 };
  return {
    model: opts.model,
    loras,
    modelAliases,
    modelPath: opts.modelPath ?? opts.model,
    loraPaths: opts.loraPaths ?? {},
    host: opts.host ?? '127.0.0.1',
    port: check('port', opts.port ?? 8000, { integer: true, max: 65535 }),
    podName: opts.podName ?? '',
    maxNumSeqs: check('maxNumSeqs', opts.maxNumSeqs ?? D.maxNumSeqs, int),
    ttftMs: check('ttftMs', opts.ttftMs ?? D.ttftMs),
    itlMs,
    mode,
    maxTokensDefault: check('maxTokensDefault', opts.maxTokensDefault ?? 16, { integer: true }),
    maxWaitingQueueLength: check('maxWaitingQueueLength', opts.maxWaitingQueueLength ?? D.maxWaitingQueueLength, { integer: true }),
    maxNumBatchedTokens: check('maxNumBatchedTokens', opts.maxNumBatchedTokens ?? D.maxNumBatchedTokens, int),
    prefillTimePerTokenMs: check('prefillTimePerTokenMs', opts.prefillTimePerTokenMs ?? D.prefillTimePerTokenMs),
    timeFactorUnderLoad: check('timeFactorUnderLoad', opts.timeFactorUnderLoad ?? D.timeFactorUnderLoad, { min: 1 }),
    itlStdDevMs,
    kvCacheSize: check('kvCacheSize', opts.kvCacheSize ?? D.kvCacheSize, int),
    blockSize: check('blockSize', opts.blockSize ?? D.blockSize, int),
    enablePrefixCaching: opts.enablePrefixCaching ?? D.enablePrefixCaching,
    maxLoras: check('maxLoras', opts.maxLoras ?? D.maxLoras, int),
    loraLoadTimeMs: check('loraLoadTimeMs', opts.loraLoadTimeMs ?? D.loraLoadTimeMs),
    failureInjectionRate: check('failureInjectionRate', opts.failureInjectionRate ?? 0, { max: 100 }),
    failureTypes,
    seed: check('seed', opts.seed ?? Math.floor(Math.random() * 2 ** 32), { integer: true, max: 2 ** 32 - 1 }),
    task,
    embeddingDimensions: check('embeddingDimensions', opts.embeddingDimensions ?? DEFAULT_EMBEDDING_DIMENSIONS, {
      integer: true,
      min: 1,
      max: MAX_EMBEDDING_DIMENSIONS,
    }),
    apiKeys,
    charsPerToken: check('charsPerToken', opts.charsPerToken ?? CHARS_PER_TOKEN, { integer: true, min: 1, max: MAX_CHARS_PER_TOKEN }),
    maxModelLen: maxModelLenOf(opts, check('kvCacheSize', opts.kvCacheSize ?? D.kvCacheSize, int) * check('blockSize', opts.blockSize ?? D.blockSize, int)),
    kvEventsConfig: opts.kvEventsConfig ?? null,
    kvEventsFormat: kvEventsFormatOf(opts.kvEventsFormat),
    h2c: opts.h2c ?? false,
  };
}

/** The context in tokens: `--max-model-len` if given and the KV cache holds it, else the default. */
function maxModelLenOf(opts: SimulatorOptions, kvTokens: number): number {
  if (opts.maxModelLen === undefined) return Math.min(MAX_MODEL_LEN, kvTokens);
  if (!Number.isInteger(opts.maxModelLen) || opts.maxModelLen < 1) throw new RangeError(`maxModelLen must be a positive integer, got ${opts.maxModelLen}`);
  if (opts.maxModelLen > kvTokens) {
    // vLLM's own refusal at start, in its words.
    throw new RangeError(`The model's max seq len (${opts.maxModelLen}) is larger than the maximum number of tokens that can be stored in KV cache (${kvTokens}). Try increasing the KV cache (--kv-cache-size) or decreasing max_model_len when initializing the engine.`);
  }
  return opts.maxModelLen;
}
