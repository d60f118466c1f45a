/**
 * Request bodies' share of one turn of the event loop. Node reads up to 2 MiB from each ready socket per
 * turn, so a few fast senders could keep a turn busy for a long time; past the slice, a body waits for the
 * next turn, and the sockets in between (/healthz, small requests) are served first.
 */

/** The default share: /healthz waits at most about this long behind request bodies. */
export const DEFAULT_SLICE_MS = 10;

export class WorkSlice {
  readonly sliceMs: number;
  #spent = 0;
  #resetQueued = false;

  constructor(sliceMs = DEFAULT_SLICE_MS) {
    this.sliceMs = sliceMs;
  }

  /** Counts `ms` of body work in this turn; true once the turn's slice is used up. */
  spend(ms: number): boolean {
    this.#spent += ms;
    if (!this.#resetQueued) {
      this.#resetQueued = true;
      // setImmediate runs after this turn's I/O callbacks: the next turn starts with a fresh slice.
      setImmediate(() => {
        this.#spent = 0;
        this.#resetQueued = false;
      });
    }
    return this.#spent > this.sliceMs;
  }

  /** Resolves in the next turn, after its timers and before its I/O: work resumed there is counted afresh. */
  nextTurn(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 0));
  }
}
