/**
 * Which endpoint holds each stored Responses API response: vLLM keeps a response (`store: true`) in the memory
 * of the pod that created it, so `GET`/`DELETE /v1/responses/{id}`, `POST /v1/responses/{id}/cancel` and a
 * follow-up naming it in `previous_response_id` must reach that same pod. Filled from the ids of the
 * responses the gateway forwarded; bounded, least recently used first out.
 */

/** Where a response was created: its endpoint and pool, and the model names its request routed by. */
export interface ResponseOwner {
  /** `ip:port`. */
  readonly endpoint: string;
  /** `namespace/name` of the InferencePool. */
  readonly pool: string;
  /** The model as the client sent it. */
  readonly model: string;
  readonly baseModel: string;
  /**
   * The tenant whose API key created it (`--api-keys`), undefined without keys: a model server keeps no owner
   * with a stored response, so the gateway is what keeps one tenant from reading, continuing or deleting another's.
   */
  readonly tenant?: string | undefined;
}

/** The default `--max-response-ids`: about 10 MB of ids (each entry ~100 bytes; owners are shared). */
export const DEFAULT_MAX_RESPONSE_IDS = 100_000;

/**
 * A gateway's response affinity, or why it has none: `'off'` in a gateway run with `--max-response-ids 0` (a
 * request on a stored response that no route takes is told so), `'unrecorded'` where no answer passes through
 * to read ids from (ext_proc, explain), so such requests route by the rules only.
 */
export type ResponseIds = ResponseAffinity | 'off' | 'unrecorded';

/** Distinct owners kept for sharing: an endpoint x model pair each; past it the cache starts over. */
const MAX_OWNERS = 10_000;

export class ResponseAffinity {
  /** Response id -> owner, in order of last use (a Map iterates in insertion order). */
  readonly #owners = new Map<string, ResponseOwner>();
  /** One owner object per endpoint and model, shared by all their responses. */
  readonly #shared = new Map<string, ResponseOwner>();
  readonly capacity: number;

  /** `capacity` ids at most (at least 1). */
  constructor(capacity = DEFAULT_MAX_RESPONSE_IDS) {
    this.capacity = Math.max(1, capacity);
  }

  get size(): number {
    return this.#owners.size;
  }

  /** Records that `id` was created at `owner`; the least recently used id goes when the map is full. */
  remember(id: string, owner: ResponseOwner): void {
    const key = `${owner.endpoint}\u0000${owner.pool}\u0000${owner.model}\u0000${owner.baseModel}\u0000${owner.tenant ?? ''}`;
    let shared = this.#shared.get(key);
    if (!shared) {
      if (this.#shared.size >= MAX_OWNERS) this.#shared.clear();
      shared = { endpoint: owner.endpoint, pool: owner.pool, model: owner.model, baseModel: owner.baseModel, tenant: owner.tenant };
      this.#shared.set(key, shared);
    }
    this.#owners.delete(id);
    this.#owners.set(id, shared);
    if (this.#owners.size > this.capacity) this.#owners.delete(this.#owners.keys().next().value!);
  }

  /** Where `id` was created, or undefined if this gateway did not forward it (or has forgotten it). */
  lookup(id: string): ResponseOwner | undefined {
    const owner = this.#owners.get(id);
    if (owner) {
      // Used again: the newest, last to go.
      this.#owners.delete(id);
      this.#owners.set(id, owner);
    }
    return owner;
  }

  /** The response was deleted: its id is kept a while as deleted (and by whom), so asking for it again says so. */
  forget(id: string, now = Date.now(), tenant?: string): void {
    this.#owners.delete(id);
    this.#deleted.delete(id);
    this.#deleted.set(id, { at: now, tenant });
    if (this.#deleted.size > MAX_DELETED) this.#deleted.delete(this.#deleted.keys().next().value!);
  }

  /**
   * When `id` was deleted through this gateway (ms since the epoch), if it was and is still remembered, and by
   * `tenant` (another tenant's deleted response is as unknown as any other of theirs).
   */
  deletedAt(id: string, tenant?: string): number | undefined {
    const d = this.#deleted.get(id);
    return d !== undefined && d.tenant === tenant ? d.at : undefined;
  }

  /** Deleted ids, oldest first: only to tell a client why a retrieve finds nothing. */
  readonly #deleted = new Map<string, { at: number; tenant: string | undefined }>();
}

/** Deleted response ids remembered as deleted (about 1 MB of ids). */
const MAX_DELETED = 10_000;
