/**
 * Tokens in flight per endpoint, for the `concurrency-detector`'s `tokens` and `hybrid` modes: each picked
 * request adds an estimate of its tokens to its endpoint and takes it back when its response ends, as
 * llm-d's in-flight load producer does with its SimpleTokenEstimator.
 */
import type { SchedulingRequest } from '../epp/framework/scheduling-request.js';

/** llm-d's SimpleTokenEstimator default: output tokens estimated as 1.5 x the input tokens. */
export const DEFAULT_OUTPUT_RATIO = 1.5;
/** Characters per token of the estimate (infergate's estimate everywhere without a tokenizer). */
const CHARS_PER_TOKEN = 4;

/**
 * Input tokens (the prompt text, 4 characters a token) plus output tokens: `round(input x 1.5)`, capped by
 * the request's own limit (`max_tokens`, `max_completion_tokens` or `max_output_tokens`) when it sets one.
 * 0 for a request without a prompt, as llm-d's estimator.
 */
export function estimateRequestTokens(req: SchedulingRequest): number {
  const input = Math.ceil(req.prompt.length / CHARS_PER_TOKEN);
  if (input === 0) return 0;
  let output = Math.round(input * DEFAULT_OUTPUT_RATIO);
  const b = req.body;
  const cap = b?.max_tokens ?? b?.max_completion_tokens ?? b?.max_output_tokens;
  if (typeof cap === 'number' && cap >= 0 && cap < output) output = Math.floor(cap);
  return input + output;
}

/** The ledger: estimated tokens in flight, per endpoint address. */
export class InFlightTokens {
  readonly #byAddress = new Map<string, number>();

  of(address: string): number {
    return this.#byAddress.get(address) ?? 0;
  }

  add(address: string, tokens: number): void {
    this.#byAddress.set(address, this.of(address) + tokens);
  }

  /** Never below 0: a release the ledger did not see added (a reload between) changes nothing. */
  remove(address: string, tokens: number): void {
    const left = this.of(address) - tokens;
    if (left > 0) this.#byAddress.set(address, left);
    else this.#byAddress.delete(address);
  }

  forget(address: string): void {
    this.#byAddress.delete(address);
  }
}
