/** One request waiting in a flow's queue: what the policies order by, and how it leaves. */
import type { FlowControlRejection } from './dropped-reason.js';

/** Where a queued request is: waiting, or gone (dispatched or dropped) and only skipped by lazy removal. */
export type QueuedState = 'queued' | 'dispatched' | 'dropped';

export class QueuedRequest {
  readonly fairnessId: string;
  readonly priority: number;
  /** Body bytes, counted against `maxBytes`. */
  readonly bytes: number;
  /** Arrival, ms since epoch (the FCFS key). */
  readonly enqueuedAt: number;
  /** When its TTL runs out (the EDF key); Infinity when the TTL is disabled (`0s`). */
  readonly deadline: number;
  /** Arrival order, the tie-breaker of every policy so equal keys stay first come, first served. */
  readonly seq: number;
  state: QueuedState = 'queued';
  readonly #resolve: () => void;
  readonly #reject: (e: FlowControlRejection) => void;
  /** Settles when dispatched (resolves) or dropped (rejects with the rejection to answer). */
  readonly done: Promise<void>;

  constructor(fairnessId: string, priority: number, bytes: number, enqueuedAt: number, ttlMs: number, seq: number) {
    this.fairnessId = fairnessId;
    this.priority = priority;
    this.bytes = bytes;
    this.enqueuedAt = enqueuedAt;
    this.deadline = ttlMs > 0 ? enqueuedAt + ttlMs : Infinity;
    this.seq = seq;
    let resolve!: () => void;
    let reject!: (e: FlowControlRejection) => void;
    this.done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A request dropped before anyone awaits it (client gone) must not be an unhandled rejection.
    this.done.catch(() => {});
    this.#resolve = resolve;
    this.#reject = reject;
  }

  dispatch(): void {
    this.state = 'dispatched';
    this.#resolve();
  }

  drop(why: FlowControlRejection): void {
    this.state = 'dropped';
    this.#reject(why);
  }
}
