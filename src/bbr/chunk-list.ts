/** The chunks of a body as they arrived, addressed by byte offset in the whole body, without joining them. */
export class ChunkList {
  readonly #chunks: Buffer[] = [];
  /** Offset of each chunk's first byte. */
  readonly #starts: number[] = [];
  #size = 0;

  /** Bytes appended so far. */
  get size(): number {
    return this.#size;
  }

  append(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#starts.push(this.#size);
    this.#size += chunk.length;
  }

  /** Drops every chunk (the caller keeps the body). */
  clear(): void {
    this.#chunks.length = 0;
    this.#starts.length = 0;
  }

  byteAt(at: number): number {
    const i = this.#indexOf(at);
    return this.#chunks[i]![at - this.#starts[i]!]!;
  }

  /** Bytes `start` to `end` (exclusive): a view when they lie in one chunk, else a copy. */
  slice(start: number, end: number): Buffer {
    let i = this.#indexOf(start);
    const first = this.#chunks[i]!;
    const offset = this.#starts[i]!;
    if (end - offset <= first.length) return first.subarray(start - offset, end - offset);
    const parts = [first.subarray(start - offset)];
    let at = offset + first.length;
    while (at < end) {
      const c = this.#chunks[++i]!;
      const n = Math.min(c.length, end - at);
      parts.push(n === c.length ? c : c.subarray(0, n));
      at += n;
    }
    return Buffer.concat(parts, end - start);
  }

  /** The chunk holding byte `at` (binary search). */
  #indexOf(at: number): number {
    const starts = this.#starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
