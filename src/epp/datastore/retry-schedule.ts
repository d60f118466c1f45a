/**
 * When to try a failing endpoint again: after `baseMs`, then twice as long after each failure in a row, up to
 * `maxMs`; at once again after a success. Each endpoint keeps three: how long it is held out of picking after a
 * connection failure, and when model discovery and metrics scraping ask it again, so a pod that is listed but does
 * not answer is asked less and less often instead of at the full rate (500 such pods had an idle gateway spend 1.4
 * cores; docs/benchmarks.md, "Unreachable pods").
 */
import { doublingDelay } from '../../backoff.js';

export class RetrySchedule {
  /** Failures in a row since the last success. */
  failures = 0;
  /** Not asked again before this time (ms since the epoch); 0 while the last attempt succeeded. */
  nextAt = 0;

  /** Records a failure at `now`: the next attempt waits `baseMs * 2^(failures - 1)`, at most `maxMs`. */
  failed(now: number, baseMs: number, maxMs: number): void {
    this.nextAt = now + doublingDelay(baseMs, maxMs, this.failures++);
  }

  succeeded(): void {
    this.failures = 0;
    this.nextAt = 0;
  }

  /** Whether an attempt may start at `now`. */
  due(now: number): boolean {
    return now >= this.nextAt;
  }
}
