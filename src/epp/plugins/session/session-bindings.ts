/** The `session_id` strategy's server-side store: session id -> the endpoint that served it, dropped when unused. */

export interface SessionBindingOptions {
  /** llm-d's `evictionTtlSeconds`, in ms: how long a binding survives unused. */
  readonly ttlMs: number;
  /** llm-d's `evictionSweepSeconds`, in ms: how often expired bindings are dropped. */
  readonly sweepMs: number;
  /** At most this many bindings; the least recently used goes first (client-chosen ids must not grow memory without end). */
  readonly capacity: number;
}

interface Binding {
  readonly endpoint: string;
  readonly lastSeen: number;
}

/**
 * Bindings by session id. A Map iterates in insertion order and a used binding is inserted again, so the first
 * entries are the least recently used: a sweep drops from the front and stops at the first live one, and the
 * capacity evicts the front. Times are the scheduling cycle's `now` (ms). One store per plugin instance and per
 * gateway replica, as in llm-d: replicas do not share bindings.
 */
export class SessionBindings {
  readonly #map = new Map<string, Binding>();
  readonly #options: SessionBindingOptions;
  #nextSweep = 0;

  constructor(options: SessionBindingOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The endpoint address `id` is bound to; undefined when unbound or unused for the TTL (swept or not yet). */
  boundTo(id: string, now: number): string | undefined {
    this.#sweep(now);
    const b = this.#map.get(id);
    if (b === undefined) return undefined;
    if (now - b.lastSeen >= this.#options.ttlMs) {
      this.#map.delete(id);
      return undefined;
    }
    return b.endpoint;
  }

  /** Binds `id` to `endpoint` (a new binding, a move, or a refresh of its last use). */
  bind(id: string, endpoint: string, now: number): void {
    this.#map.delete(id);
    this.#map.set(id, { endpoint, lastSeen: now });
    if (this.#map.size > this.#options.capacity) {
      const oldest = this.#map.keys().next();
      if (oldest.done !== true) this.#map.delete(oldest.value);
    }
    this.#sweep(now);
  }

  #sweep(now: number): void {
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + this.#options.sweepMs;
    for (const [id, b] of this.#map) {
      if (now - b.lastSeen < this.#options.ttlMs) break;
      this.#map.delete(id);
    }
  }
}
