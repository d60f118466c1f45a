/** A clock that moves only when a test says so: engine tests run in virtual time, exactly and fast. */
import type { Clock, TimerHandle } from './clock.js';

interface PendingTimer {
  readonly at: number;
  readonly order: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Timers fire in time order (ties in the order they were set) as `advance` or `runUntilIdle` passes them. */
export class ManualClock implements Clock {
  #now = 0;
  #order = 0;
  #timers: PendingTimer[] = [];

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, delayMs: number): TimerHandle {
    const timer: PendingTimer = { at: this.#now + Math.max(0, delayMs), order: this.#order++, fn, cancelled: false };
    this.#timers.push(timer);
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    (handle as PendingTimer).cancelled = true;
  }

  /** Timers still waiting to fire. */
  get pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (let t = this.#next(); t !== undefined && t.at <= until; t = this.#next()) this.#fire(t);
    this.#now = until;
  }

  /** Fires timers until none are left; throws if work is still scheduled after `limitMs` of virtual time. */
  runUntilIdle(limitMs = 3_600_000): void {
    const until = this.#now + limitMs;
    for (let t = this.#next(); t !== undefined; t = this.#next()) {
      if (t.at > until) throw new Error(`still busy after ${limitMs} ms of virtual time`);
      this.#fire(t);
    }
  }

  #next(): PendingTimer | undefined {
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    let first: PendingTimer | undefined;
    for (const t of this.#timers) if (first === undefined || t.at < first.at || (t.at === first.at && t.order < first.order)) first = t;
    return first;
  }

  #fire(t: PendingTimer): void {
    t.cancelled = true;
    this.#now = Math.max(this.#now, t.at);
    t.fn();
  }
}
