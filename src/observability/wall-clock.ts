/**
 * Wall-clock times for readings of the monotonic clock (`performance.now()`), without a second clock read per
 * request: the offset between the two clocks is read again at most once a second, so a step of the system clock
 * (NTP) shows within a second, as it would in a log anyway.
 */

/** How often the offset is read again, in ms of the monotonic clock. */
const REFRESH_MS = 1000;

// Read on first use, not at load: a process's first clock reads can be a ms apart while its timers initialise.
let offset = 0;
let offsetReadAt = -Infinity;

/** Whole ms since the epoch at `monotonic`, a `performance.now()` reading taken just now. */
export function epochMsAt(monotonic: number): number {
  if (monotonic - offsetReadAt >= REFRESH_MS || monotonic < offsetReadAt) {
    const now = performance.now();
    offset = Date.now() - now;
    offsetReadAt = now;
  }
  return Math.floor(monotonic + offset);
}
