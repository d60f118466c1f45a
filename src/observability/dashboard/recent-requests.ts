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

export class RecentRequests {
  readonly capacity: number;
  readonly #ring: (RecentRequest | undefined)[];
  #next = 0;

  constructor(capacity = 20) {
    this.capacity = Math.max(1, capacity);
    this.#ring = new Array<RecentRequest | undefined>(this.capacity);
  }

  push(r: RecentRequest): void {
    this.#ring[this.#next] = r;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** Newest first. */
  list(): RecentRequest[] {
    const out: RecentRequest[] = [];
    for (let i = 1; i <= this.capacity; i++) {
      const r = this.#ring[(this.#next - i + this.capacity) % this.capacity];
      if (r) out.push(r);
    }
    return out;
  }
}
