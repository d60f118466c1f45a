/** Failure injection as in llm-d-inference-sim: a seeded share of requests is answered with a canned API error. */
import { VllmError } from './vllm-error.js';

/** llm-d-inference-sim's failure types (`--failure-types`). */
export const FAILURE_TYPES = ['rate_limit', 'invalid_api_key', 'context_length', 'server_error', 'invalid_request', 'model_not_found'] as const;

export type FailureType = (typeof FAILURE_TYPES)[number];

export function isFailureType(s: string): s is FailureType {
  return (FAILURE_TYPES as readonly string[]).includes(s);
}

/** The error each type answers with; messages as llm-d-inference-sim's (pkg/llm-d-inference-sim/failures.go). */
function failure(type: FailureType, model: string): VllmError {
  switch (type) {
    case 'rate_limit':
      return new VllmError(429, `Rate limit reached for ${model} in organization org-xxx on requests per min (RPM): Limit 3, Used 3, Requested 1.`);
    case 'invalid_api_key':
      return new VllmError(401, 'Incorrect API key provided.');
    case 'context_length':
      return new VllmError(400, "This model's maximum context length is 4096 tokens. However, your messages resulted in 4500 tokens.", 'messages');
    case 'server_error':
      return new VllmError(500, 'The server is overloaded or not ready yet.');
    case 'invalid_request':
      return new VllmError(400, "Invalid request: missing required parameter 'model'.", 'model');
    case 'model_not_found':
      return new VllmError(404, `The model '${model}-nonexistent' does not exist`, 'model');
  }
}

/** Decides, per request, whether to fail it and how. */
export class FailureInjector {
  readonly #ratePercent: number;
  readonly #types: readonly FailureType[];
  readonly #random: () => number;

  /** `ratePercent` in 0..100; an empty `types` means all of them, as in llm-d-inference-sim. */
  constructor(ratePercent: number, types: readonly FailureType[], random: () => number) {
    this.#ratePercent = ratePercent;
    this.#types = types.length > 0 ? types : FAILURE_TYPES;
    this.#random = random;
  }

  /** The error to answer a request for `model` with, or null to serve it. Draws nothing at rate 0. */
  draw(model: string): VllmError | null {
    if (this.#ratePercent <= 0 || this.#random() * 100 >= this.#ratePercent) return null;
    const type = this.#types[Math.floor(this.#random() * this.#types.length)] ?? 'server_error';
    return failure(type, model);
  }
}
