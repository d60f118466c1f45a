/** One request inside the engine: its prompt blocks, its progress through prefill and decode, and its place. */
import type { FinishReason, EngineRequest, GenerationListener } from './generation.js';
import type { KvHolder } from './kv-cache.js';
import { blockHashes } from './prefix-hash.js';
import type { Tokenizer } from './tokenizer.js';

/** Where a sequence is: the waiting queue, the running batch, or gone (finished, aborted, engine closed). */
export type SequenceState = 'waiting' | 'running' | 'done';

/** Mutable engine state of one request. Times are clock milliseconds. */
export interface Sequence extends KvHolder {
  /** Arrival order: FCFS ranks by it, and preemption picks the newest running sequence. */
  readonly id: number;
  readonly req: EngineRequest;
  readonly listener: GenerationListener;
  /** The output to emit, already cut at max_tokens and at what fits in the KV cache. */
  readonly tokens: readonly string[];
  readonly finishReason: FinishReason;
  /** Prompt length in tokens (at least 1: vLLM always has one token to prefill). */
  readonly promptLen: number;
  readonly arrivedAt: number;
  state: SequenceState;
  /** Tokens whose KV is computed (prompt first, then generated tokens); reset by preemption. */
  computed: number;
  /** Tokens this sequence computes in the step in flight. */
  chunk: number;
  /** Tokens emitted to the listener. */
  generated: number;
  /** When it first left the queue; NaN until then. */
  scheduledAt: number;
  /** When its first token was delivered; NaN before. */
  firstTokenAt: number;
  lastTokenAt: number;
  /** When its first token is delivered, while it sits out `ttftMs`; NaN otherwise. */
  dueAt: number;
  /** Chained hashes of its full blocks: the prompt's, then each decode block's as it fills (decode-blocks.ts). */
  readonly hashes: bigint[];
  /** Token ids of its text: the prompt's, extended by the reply's once a decode block fills. */
  readonly tokenIds: number[];
  /** The text (prompt's tail, then reply's words) from the start of the next decode block to hash; null until one fills. */
  pendingText: string | null;
  /** The first output word not yet appended to `pendingText`. */
  pendingWord: number;
}

export interface SequenceLimits {
  readonly blockSize: number;
  /** Turns the prompt into the token ids its KV blocks hold (the simulator's tokenizer). */
  readonly tokenizer: Pick<Tokenizer, 'encode'>;
  /** Tokens the whole KV cache holds: a sequence longer than that could never run. */
  readonly kvTokens: number;
  readonly enablePrefixCaching: boolean;
}

export function newSequence(id: number, req: EngineRequest, listener: GenerationListener, now: number, limits: SequenceLimits): Sequence {
  const promptLen = Math.max(1, req.promptTokens);
  const capped = req.maxTokens === null ? req.output.length : Math.min(req.output.length, req.maxTokens);
  // Like vLLM at max_model_len: a sequence stops with "length" when its KV would outgrow the cache.
  const fits = Math.max(0, Math.min(capped, limits.kvTokens - promptLen));
  const tokens = fits === req.output.length ? req.output : req.output.slice(0, fits);
  // A stop string wins over max_tokens, as in vLLM (its output processor overrides the engine's "length").
  const cutByMaxTokens = req.stopped !== true && req.maxTokens !== null && fits >= req.maxTokens;
  const finishReason: FinishReason = fits < capped || cutByMaxTokens ? 'length' : 'stop';
  const tokenIds = limits.enablePrefixCaching ? limits.tokenizer.encode(req.promptText) : [];
  // promptTokens is the tokenizer's count for every HTTP request; a test may claim more tokens than its text has.
  const fullBlocks = Math.floor(Math.min(promptLen, tokenIds.length) / limits.blockSize);
  const lora = req.lora;
  const salt = req.cacheSalt ?? null;
  return {
    id,
    req,
    listener,
    tokens,
    finishReason,
    promptLen,
    arrivedAt: now,
    hashes: fullBlocks > 0 ? blockHashes(tokenIds, limits.blockSize, fullBlocks, lora, 0, undefined, salt) : [],
    tokenIds,
    lora,
    salt,
    blocks: [],
    cachedBlocks: 0,
    pendingText: null,
    pendingWord: 0,
    state: 'waiting',
    computed: 0,
    chunk: 0,
    generated: 0,
    scheduledAt: NaN,
    firstTokenAt: NaN,
    lastTokenAt: now,
    dueAt: NaN,
  };
}

/** Tokens still to compute before the next token can be sampled: the prompt, then one per decode step. */
export function tokensToCompute(seq: Sequence): number {
  return seq.promptLen + seq.generated - seq.computed;
}

/** Prefix blocks a (re)admission may take from the cache: at least one token must be computed to sample from. */
export function maxHitBlocks(seq: Sequence, blockSize: number): number {
  return Math.min(seq.hashes.length, Math.floor((seq.promptLen + seq.generated - 1) / blockSize));
}
