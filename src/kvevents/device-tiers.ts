/** The device tiers a pod holds KV blocks in (vLLM's `medium`), as bits of the block index, and their weights in scoring. */

/** Device tiers a pod can hold a block in, as bits. Speculative entries (a pick not yet confirmed) are a tier of their own. */
export const TIER_GPU = 1;
export const TIER_CPU = 2;
export const TIER_OTHER = 4;
export const TIER_SPECULATIVE = 8;
export const ALL_TIERS = TIER_GPU | TIER_CPU | TIER_OTHER | TIER_SPECULATIVE;

/** vLLM's `medium` as a tier bit; null and "" are the GPU, as llm-d's `normalizeDeviceTier` reads them. */
export function tierOf(medium: string | null): number {
  if (medium === null || medium === '') return TIER_GPU;
  const m = medium.toLowerCase();
  return m === 'gpu' ? TIER_GPU : m === 'cpu' ? TIER_CPU : TIER_OTHER;
}

/** Weight of a block held in each tier (llm-d's `kvCacheBackendConfigs`: gpu 1.0, cpu 0.8; others 1.0). */
export interface TierWeights {
  gpu: number;
  cpu: number;
  other: number;
}

export const DEFAULT_TIER_WEIGHTS: TierWeights = { gpu: 1, cpu: 0.8, other: 1 };
