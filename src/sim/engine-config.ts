/**
 * The engine's knobs, named after vLLM's and llm-d-inference-sim's flags, and their defaults.
 *
 * Defaults follow REFERENCE §9 (an 8B model on one H100-class GPU), scaled so a laptop test finishes fast:
 * prefill 0.1 ms/token (10^4 tokens/s), a decode step of 10 ms at batch 1, 4096 blocks x 16 tokens = 65,536
 * tokens of KV cache, 2048 tokens per step. Every one is a simulator option and an `infergate sim` flag.
 */

/** How one simulated vLLM engine schedules and times its steps. */
export interface EngineConfig {
  /** At most this many sequences run at once (vLLM `--max-num-seqs`); the rest wait FCFS. */
  readonly maxNumSeqs: number;
  /** Waiting requests beyond the ones about to take free slots; one more gets a 429 (llm-d-inference-sim). */
  readonly maxWaitingQueueLength: number;
  /** Token budget of one step, prefill and decode together (vLLM `--max-num-batched-tokens`); longer prompts are chunked. */
  readonly maxNumBatchedTokens: number;
  /** Fixed extra latency before a request's first token (model/network overhead), in ms; the sequence keeps its slot meanwhile. */
  readonly ttftMs: number;
  /** Duration of a decode step with one sequence, in ms: the step's fixed overhead and a lone request's inter-token latency. */
  readonly itlMs: number;
  /** Standard deviation of the decode part of each step, in ms (at most 30% of itlMs; truncated to +-70% of it). */
  readonly itlStdDevMs: number;
  /** Cost of each prefill token in a step, in ms; cached prefix tokens cost nothing. */
  readonly prefillTimePerTokenMs: number;
  /** Decode-step multiplier with `maxNumSeqs` sequences in the step (1 = no slowdown); linear in between. */
  readonly timeFactorUnderLoad: number;
  /** KV-cache blocks (vLLM's num_gpu_blocks; llm-d-inference-sim `--kv-cache-size`). */
  readonly kvCacheSize: number;
  /** Tokens per KV block (vLLM `--block-size`). */
  readonly blockSize: number;
  /** Reuse cached leading prompt blocks instead of prefilling them again (vLLM `--enable-prefix-caching`). */
  readonly enablePrefixCaching: boolean;
  /** Distinct LoRA adapters in one batch (vLLM `--max-loras`); requests for another adapter wait. */
  readonly maxLoras: number;
  /** Added to the step in which an adapter that is not resident gets loaded, in ms. */
  readonly loraLoadTimeMs: number;
}

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  maxNumSeqs: 5,
  maxWaitingQueueLength: 1000,
  maxNumBatchedTokens: 2048,
  ttftMs: 0,
  itlMs: 10,
  itlStdDevMs: 0,
  prefillTimePerTokenMs: 0.1,
  timeFactorUnderLoad: 1,
  kvCacheSize: 4096,
  blockSize: 16,
  enablePrefixCaching: true,
  maxLoras: 1,
  loraLoadTimeMs: 0,
};
