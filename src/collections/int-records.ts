/**
 * Fixed-size int32 records in one growable array (a record's fields share a cache line), with a free list
 * threaded through field `link`: the allocator under the prefix index's blocks and holdings.
 */

/** The end of the free list. */
const NONE = -1;

export class IntRecords {
  /** Record `id`'s fields are at `a[id * stride + field]`. Replaced when it grows: read it after `alloc`. */
  a: Int32Array;
  readonly #stride: number;
  readonly #link: number;
  #free = NONE;
  #next = 0;

  constructor(stride: number, link: number) {
    this.a = new Int32Array(1024 * stride);
    this.#stride = stride;
    this.#link = link;
  }

  /** A record id: a released one if any (its fields hold what they held), else a new one, all 0. May replace `a`. */
  alloc(): number {
    const id = this.#free;
    if (id !== NONE) {
      this.#free = this.a[id * this.#stride + this.#link] as number;
      return id;
    }
    if ((this.#next + 1) * this.#stride > this.a.length) {
      const bigger = new Int32Array(this.a.length * 2);
      bigger.set(this.a);
      this.a = bigger;
    }
    return this.#next++;
  }

  /** Makes `id` free for reuse; overwrites its `link` field. */
  release(id: number): void {
    this.a[id * this.#stride + this.#link] = this.#free;
    this.#free = id;
  }
}
