/** Time and timers for the engine, behind an interface so tests can drive the step loop by hand. */

/** An opaque handle from `setTimer`. */
export type TimerHandle = unknown;

/** A monotonic millisecond clock with one-shot timers. */
export interface Clock {
  /** Milliseconds on a monotonic scale (only differences mean anything). */
  now(): number;
  /** Calls `fn` once after `delayMs`; a delay of 0 or less runs it on the next turn of the event loop. */
  setTimer(fn: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

type RealHandle = { immediate: NodeJS.Immediate } | { timeout: NodeJS.Timeout };

/** performance.now() and Node's timers; setImmediate for due work, since setTimeout never waits less than 1 ms. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(fn, delayMs): RealHandle {
    return delayMs <= 0 ? { immediate: setImmediate(fn) } : { timeout: setTimeout(fn, delayMs) };
  },
  clearTimer(handle) {
    const h = handle as RealHandle;
    if ('immediate' in h) clearImmediate(h.immediate);
    else clearTimeout(h.timeout);
  },
};
