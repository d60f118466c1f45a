/**
 * Exponential backoff: a delay that doubles with each failure in a row, up to a cap. `Backoff` (with jitter) paces
 * reconnecting to the Kubernetes API server; `doublingDelay` is also the arithmetic of an endpoint's retry
 * schedules (src/epp/datastore/retry-schedule.ts).
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Each delay is scaled by a random factor in [1 - jitter, 1 + jitter], so replicas do not reconnect in step. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 8000, jitter: 0.2 };

/** `initialMs` after no failure before, twice that after one, ... at most `maxMs`; the exponent is capped so a long outage cannot overflow it. */
export function doublingDelay(initialMs: number, maxMs: number, failuresBefore: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(failuresBefore, 30));
}

export class Backoff {
  readonly #opts: BackoffOptions;
  readonly #random: () => number;
  #failures = 0;

  /** `random` gives numbers in [0, 1) (seededRandom in tests). */
  constructor(opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random) {
    this.#opts = opts;
    this.#random = random;
  }

  /** The delay before the next attempt: initial, 2x, 4x ... up to max, jittered. */
  next(): number {
    const base = doublingDelay(this.#opts.initialMs, this.#opts.maxMs, this.#failures);
    this.#failures++;
    const factor = 1 + this.#opts.jitter * (2 * this.#random() - 1);
    return Math.round(Math.min(this.#opts.maxMs * (1 + this.#opts.jitter), base * factor));
  }

  /** After a success the next failure starts from the initial delay again. */
  reset(): void {
    this.#failures = 0;
  }

  get failures(): number {
    return this.#failures;
  }
}
