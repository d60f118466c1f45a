/**
 * Gathers a burst of deletions into one change. Removing an InferencePool or HTTPRoute CRD makes the API server
 * delete its objects one at a time (the CRD finalizer's DeleteCollection), and so does deleting a namespace: their
 * watch events arrive spread over tens or hundreds of milliseconds, longer than the debounce. Applied as they come,
 * every change but the last removes only some pools, so the edit guard's "removes every InferencePool" rule
 * (src/config/edit-risk.ts) saw only the last one and held back just that pool, after the others had gone.
 */

/** How long a burst waits for the next removal: longer than the gaps between the API server's deletions of one collection. */
export const REMOVAL_QUIET_MS = 300;
/** The longest a burst of deletions holds back changes: a namespace of many objects is deleted in a few seconds. */
export const REMOVAL_BURST_MAX_MS = 5000;

export class RemovalBurst {
  readonly #quietMs: number;
  readonly #maxMs: number;
  #lastAt = Number.NEGATIVE_INFINITY;
  #startAt = Number.NEGATIVE_INFINITY;
  /** Each watched collection's size at its last change, to tell a deletion from an addition. */
  readonly #sizes = new Map<object, number>();

  /** A burst ends once no removal has come for `quietMs`, or `maxMs` after it began, whichever is first. */
  constructor(quietMs: number, maxMs: number) {
    this.#quietMs = quietMs;
    this.#maxMs = maxMs;
  }

  /** A watched collection (`key`) changed to `size` objects at `now` (ms): fewer than before is a removal. */
  sizeChanged(key: object, size: number, now: number): void {
    if (size < (this.#sizes.get(key) ?? 0)) this.removed(now);
    this.#sizes.set(key, size);
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
