/** A deterministic token-count estimate (about 4 characters per token), shared by the simulator and benchmarks. */

/** Average characters per token for English text with a BPE tokenizer; close enough for load figures. */
export const CHARS_PER_TOKEN = 4;

/**
 * Estimates how many tokens `text` costs: `ceil(length / 4)`, counted in UTF-16 code units.
 * Deterministic, so the same prompt always reports the same `usage.prompt_tokens`; 0 only for ''.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}
