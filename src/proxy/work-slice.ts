/** Request bodies' share of the event loop: a slice of each turn and a share of the time, so /healthz is served between chunks. */

export interface WorkSliceOptions {
  /** Body work per turn of the event loop (ms). */
  sliceMs: number;
  /** The fraction of wall time body work may take, over each period. */
  share: number;
  periodMs: number;
}

export const DEFAULT_WORK_SLICE: Readonly<WorkSliceOptions> = { sliceMs: 5, share: 0.4, periodMs: 100 };

/**
 * Node reads up to 2 MiB from each ready socket per turn of the loop, and a saturated loop leaves nothing to
 * V8's garbage collector threads: so body work gets at most `sliceMs` per turn and at most `share` of each
 * `periodMs`. A body whose chunk finds the slice spent waits (unread, its client slowed by TCP flow control)
 * in a queue that lets one body go on per turn, so /healthz and small requests are served in between.
 */
export class WorkSlice {
  readonly options: WorkSliceOptions;
  #turn = 0;
  #resetQueued = false;
  #periodStart = 0;
  #period = 0;
  readonly #queue: (() => void)[] = [];
  #pumping = false;

  constructor(options: Partial<WorkSliceOptions> = {}) {
    this.options = { ...DEFAULT_WORK_SLICE, ...options };
  }

  /** Whether this turn's slice or this period's share is used up: new work should wait for {@link resume}. */
  get spent(): boolean {
    this.#roll();
    return this.#turn >= this.options.sliceMs || this.#period >= this.options.share * this.options.periodMs;
  }

  /** Counts `ms` of body work done now. */
  add(ms: number): void {
    this.#roll();
    this.#period += ms;
    this.#turn += ms;
    if (!this.#resetQueued) {
      this.#resetQueued = true;
      // setImmediate runs after this turn's I/O callbacks: the next turn starts with a fresh slice.
      setImmediate(() => {
        this.#turn = 0;
        this.#resetQueued = false;
      });
    }
  }

  /** Resolves when this body may work again: in turn, one body per turn of the loop, once the period allows. */
  resume(): Promise<void> {
    return new Promise((resolve) => {
      this.#queue.push(resolve);
      this.#pump();
    });
  }

  #roll(): void {
    const now = performance.now();
    if (now - this.#periodStart >= this.options.periodMs) {
      this.#periodStart = now;
      this.#period = 0;
    }
  }

  #pump(): void {
    if (this.#pumping || this.#queue.length === 0) return;
    this.#pumping = true;
    this.#roll();
    const o = this.options;
    const wait = this.#period >= o.share * o.periodMs ? Math.max(0, this.#periodStart + o.periodMs - performance.now()) : 0;
    // A timer fires at the start of a turn, before its I/O: the body resumed there gets that turn's slice.
    setTimeout(() => {
      this.#pumping = false;
      this.#queue.shift()?.();
      this.#pump();
    }, wait);
  }
}
