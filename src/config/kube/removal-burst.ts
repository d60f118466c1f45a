/**
 * Gathers a burst of deletions into one change. Removing an InferencePool or HTTPRoute CRD makes the API server
 * delete its objects one at a time (the CRD finalizer's DeleteCollection), and so does deleting a namespace: their
 * watch events arrive spread over tens or hundreds of milliseconds, longer than the debounce. Applied as they come,
 * every change but the last removes only some pools, so the edit guard's "removes every InferencePool" rule
 * (src/config/edit-risk.ts) saw only the last one and held back just that pool, after the others had gone.
 */
export class RemovalBurst {
  readonly #quietMs: number;
  readonly #maxMs: number;
  #lastAt = Number.NEGATIVE_INFINITY;
  #startAt = Number.NEGATIVE_INFINITY;

  /** A burst ends once no removal has come for `quietMs`, or `maxMs` after it began, whichever is first. */
  constructor(quietMs: number, maxMs: number) {
    this.#quietMs = quietMs;
    this.#maxMs = maxMs;
  }

  /** Records a removal seen at `now` (ms). */
  removed(now: number): void {
    if (now - this.#lastAt > this.#quietMs) this.#startAt = now;
    this.#lastAt = now;
  }

  /** How long a rebuild at `now` should still wait for the burst to end; 0 when none is under way. */
  waitMs(now: number): number {
    return Math.max(0, Math.min(this.#lastAt + this.#quietMs, this.#startAt + this.#maxMs) - now);
  }
}
