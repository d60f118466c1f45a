/** How long one engine step takes, from the work in it: a fixed overhead, prefill tokens, batch size, adapter loads. */
import type { EngineConfig } from './engine-config.js';

/** The work the planner put in one step. */
export interface StepWork {
  /** Sequences in the step, prefilling or decoding. */
  sequences: number;
  /** Tokens computed for prompts (and recomputations) in this step; decode tokens are not counted here. */
  prefillTokens: number;
  /** Adapters that had to be loaded for this step. */
  adaptersLoaded: number;
}

/** llm-d-inference-sim's rule: with more than 30% of the mean, jitter would swamp the signal. */
export const MAX_STD_DEV_FRACTION = 0.3;
/** llm-d-inference-sim truncates samples to within 70% of the mean. */
const TRUNCATE_FRACTION = 0.7;

/**
 * stepMs = itlMs x loadFactor(b) (+ jitter) + prefillTimePerTokenMs x prefillTokens + loraLoadTimeMs x adaptersLoaded,
 * loadFactor(b) = 1 + (timeFactorUnderLoad - 1) x (b - 1) / (maxNumSeqs - 1) for b >= 1 sequences in the step
 * (llm-d-inference-sim's load factor; 1 when maxNumSeqs is 1). So a lone request decodes at itlMs, a full
 * batch at itlMs x timeFactorUnderLoad, and every uncached prompt token slows all the decodes sharing its step.
 */
export class StepCost {
  readonly #config: EngineConfig;
  readonly #random: () => number;
  #spare = NaN;

  constructor(config: EngineConfig, random: () => number) {
    this.#config = config;
    this.#random = random;
  }

  loadFactor(sequences: number): number {
    const { maxNumSeqs, timeFactorUnderLoad } = this.#config;
    if (maxNumSeqs <= 1 || sequences <= 1) return 1;
    return 1 + ((timeFactorUnderLoad - 1) * (Math.min(sequences, maxNumSeqs) - 1)) / (maxNumSeqs - 1);
  }

  stepMs(work: StepWork): number {
    const c = this.#config;
    const mean = c.itlMs * this.loadFactor(work.sequences);
    const decode = c.itlStdDevMs > 0 ? this.#jitter(mean, c.itlStdDevMs) : mean;
    return decode + c.prefillTimePerTokenMs * work.prefillTokens + c.loraLoadTimeMs * work.adaptersLoaded;
  }

  /** A normal sample around `mean`, truncated to mean +- 70%, from the seeded PRNG (Box-Muller, pairs cached). */
  #jitter(mean: number, stdDev: number): number {
    let z = this.#spare;
    if (Number.isNaN(z)) {
      const u = 1 - this.#random(); // (0, 1]: log(0) would be -Infinity
      const r = Math.sqrt(-2 * Math.log(u));
      const theta = 2 * Math.PI * this.#random();
      z = r * Math.cos(theta);
      this.#spare = r * Math.sin(theta);
    } else {
      this.#spare = NaN;
    }
    const spread = mean * TRUNCATE_FRACTION;
    return Math.min(mean + spread, Math.max(mean - spread, mean + stdDev * z));
  }
}
