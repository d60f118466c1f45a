/** The last N scheduling decisions of live traffic, with every plugin's scores, for `GET /debug/scheduling`. */
import type { CycleTrace } from '../epp/framework/run-cycle.js';

export interface Decision {
  time: string;
  requestId: string;
  pool: string;
  model: string | null;
  priority: number;
  /** The endpoint the request was sent to, or null when none was picked. */
  picked: string | null;
  /** One trace per scheduling profile that ran (filters, each scorer's raw scores, totals). */
  profiles: CycleTrace[];
  error?: string;
}

/** A fixed-size ring: recording is O(1) and the memory bound is N decisions. */
export class DecisionLog {
  readonly capacity: number;
  #ring: (Decision | undefined)[];
  #next = 0;

  constructor(capacity: number) {
    this.capacity = Math.max(0, capacity);
    this.#ring = new Array<Decision | undefined>(this.capacity);
  }

  get enabled(): boolean {
    return this.capacity > 0;
  }

  record(d: Decision): void {
    if (this.capacity === 0) return;
    this.#ring[this.#next] = d;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** The `GET /debug/scheduling` answer; `limit` is the query parameter as sent (every kept decision when absent or not a number). */
  report(limit: string | null): { capacity: number; decisions: Decision[] } {
    const n = Number(limit ?? this.capacity);
    return { capacity: this.capacity, decisions: this.recent(Number.isFinite(n) ? n : this.capacity) };
  }

  /** Newest first, at most `limit`. */
  recent(limit = this.capacity): Decision[] {
    const out: Decision[] = [];
    for (let i = 1; i <= this.capacity && out.length < limit; i++) {
      const d = this.#ring[(this.#next - i + this.capacity) % this.capacity];
      if (d) out.push(d);
    }
    return out;
  }
}
