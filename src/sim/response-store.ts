/**
 * Stored Responses API results (`store: true`), for `GET`/`DELETE /v1/responses/{id}` and `previous_response_id`.
 * vLLM keeps them in memory without bound (with VLLM_ENABLE_RESPONSES_API_STORE=1); the simulator keeps the newest.
 */

/** One stored response: the object as sent, and the conversation a follow-up continues. */
export interface StoredResponse {
  readonly body: Record<string, unknown>;
  /** Everything the model saw and said: the prompt text followed by the output text. */
  readonly conversation: string;
}

/** Enough for any test or demo; past it the oldest responses are forgotten (then 404, as if never stored). */
export const MAX_STORED_RESPONSES = 10_000;

export class ResponseStore {
  readonly #byId = new Map<string, StoredResponse>();
  readonly #limit: number;

  constructor(limit = MAX_STORED_RESPONSES) {
    this.#limit = limit;
  }

  get size(): number {
    return this.#byId.size;
  }

  put(id: string, stored: StoredResponse): void {
    this.#byId.set(id, stored);
    if (this.#byId.size > this.#limit) this.#byId.delete(this.#byId.keys().next().value!);
  }

  get(id: string): StoredResponse | undefined {
    return this.#byId.get(id);
  }

  /** False when there was no such response. */
  delete(id: string): boolean {
    return this.#byId.delete(id);
  }
}
