/** The last few finished requests, newest first, in a fixed ring: the dashboard's "recent requests" table. */

/** What the dashboard shows of one request: no request id, no client address, no body. */
export interface RecentRequest {
  /** When it ended (ms since the epoch). */
  at: number;
  method: string;
  path: string;
  model: string | null;
  pool: string | null;
  endpoint: string | null;
  /** The status sent to the client; null when the connection broke before one went out. */
  status: number | null;
  /** The gateway's error code (errors.ts), `HTTP <status>` for a model server's error answer, or null. */
  error: string | null;
  attempts: number;
  stream: boolean;
  ttftMs: number | null;
  durationMs: number;
  outputTokens: number | null;
}

/**
 * A fixed ring of what finished (`T`, with when it ended), turned into rows only when the dashboard asks: the
 * request path stores a reference and a number, and allocates nothing.
 */
export class RecentRequests<T> {
  readonly capacity: number;
  readonly #ring: (T | undefined)[];
  readonly #at: Float64Array;
  readonly #view: (entry: T, at: number) => RecentRequest;
  #next = 0;

  constructor(capacity: number, view: (entry: T, at: number) => RecentRequest) {
    this.capacity = Math.max(1, capacity);
    this.#ring = new Array<T | undefined>(this.capacity);
    this.#at = new Float64Array(this.capacity);
    this.#view = view;
  }

  push(entry: T, at: number): void {
    this.#ring[this.#next] = entry;
    this.#at[this.#next] = at;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** Newest first. */
  list(): RecentRequest[] {
    const out: RecentRequest[] = [];
    for (let i = 1; i <= this.capacity; i++) {
      const k = (this.#next - i + this.capacity) % this.capacity;
      const e = this.#ring[k];
      if (e !== undefined) out.push(this.#view(e, this.#at[k]!));
    }
    return out;
  }
}
