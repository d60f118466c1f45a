/** The publisher's replay buffer: the last `capacity` batches by sequence number, as vLLM keeps `deque(maxlen=buffer_steps)`. */

/** One published batch, kept as sent (the topic is not kept: vLLM's replay answers `[seq, payload]`). */
export interface BufferedBatch {
  readonly seq: number;
  readonly payload: Uint8Array;
}

/** Sequence numbers are pushed consecutively, so a batch's slot is found from its number without a search. */
export class ReplayRing {
  readonly #slots: (BufferedBatch | undefined)[];
  /** One past the newest sequence number pushed; -1 before the first push. */
  #end = -1;
  #size = 0;

  constructor(capacity: number) {
    this.#slots = new Array<BufferedBatch | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends the batch numbered `seq`, which must be one more than the last; the oldest falls out when full (at once with capacity 0). */
  push(seq: number, payload: Uint8Array): void {
    if (this.#end >= 0 && seq !== this.#end) throw new RangeError(`replay ring expects seq ${this.#end}, got ${seq}`);
    this.#end = seq + 1;
    if (this.#slots.length === 0) return;
    this.#slots[seq % this.#slots.length] = { seq, payload };
    this.#size = Math.min(this.#size + 1, this.#slots.length);
  }

  /** Every buffered batch with seq >= `start`, oldest first (a copy: later pushes do not change it). */
  from(start: number): BufferedBatch[] {
    const first = Math.max(start, this.#end - this.#size);
    const out: BufferedBatch[] = [];
    for (let s = first; s < this.#end; s++) out.push(this.#slots[s % this.#slots.length]!);
    return out;
  }
}
