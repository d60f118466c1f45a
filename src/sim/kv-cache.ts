/** The KV cache as vLLM V1's block pool: a fixed number of blocks, a prefix cache by block hash, an LRU free queue. */

/** What the cache keeps for one sequence. The engine's Sequence is one. */
export interface KvHolder {
  /** The ids of the blocks the sequence holds, in token order. */
  readonly blocks: number[];
  /** Chained hashes of the prompt's full blocks; empty when prefix caching is off. */
  readonly hashes: readonly number[];
  /** How many leading blocks are registered in the prefix cache (by this sequence or an earlier one). */
  cachedBlocks: number;
}

/**
 * Invariants: a block is either held (ref > 0) or on the free queue, never both; a cached block keeps its
 * hash while free and is dropped from the cache only when it is reused (evicted), oldest-freed first.
 * Freeing appends to the tail, allocating takes from the head, so the least recently used block goes first.
 */
export class KvCache {
  readonly numBlocks: number;
  readonly blockSize: number;
  readonly #ref: Int32Array;
  /** The prefix-cache hash of each block; NaN when it has none. */
  readonly #hash: Float64Array;
  readonly #byHash = new Map<number, number>();
  // The free queue is a doubly linked list over block ids; index `numBlocks` is its sentinel.
  readonly #prev: Int32Array;
  readonly #next: Int32Array;
  #free: number;

  constructor(numBlocks: number, blockSize: number) {
    this.numBlocks = numBlocks;
    this.blockSize = blockSize;
    this.#ref = new Int32Array(numBlocks);
    this.#hash = new Float64Array(numBlocks).fill(NaN);
    this.#prev = new Int32Array(numBlocks + 1);
    this.#next = new Int32Array(numBlocks + 1);
    for (let b = 0; b <= numBlocks; b++) {
      this.#prev[b] = b === 0 ? numBlocks : b - 1;
      this.#next[b] = b === numBlocks ? 0 : b + 1;
    }
    this.#free = numBlocks;
  }

  /** Blocks no sequence holds (cached or not). */
  get freeBlocks(): number {
    return this.#free;
  }

  /** vLLM's `kv_cache_usage_perc`: held blocks / all blocks, 0..1. */
  get usage(): number {
    return this.numBlocks === 0 ? 0 : (this.numBlocks - this.#free) / this.numBlocks;
  }

  /** Blocks with a prefix-cache hash, held or free. */
  get cachedBlockCount(): number {
    return this.#byHash.size;
  }

  /** How many of the leading `hashes` (at most `max`) are in the cache. */
  cachedPrefix(hashes: readonly number[], max: number): number {
    const limit = Math.min(max, hashes.length);
    let n = 0;
    while (n < limit && this.#byHash.has(hashes[n]!)) n++;
    return n;
  }

  /**
   * Gives `holder` (which holds nothing yet) its first `hitBlocks` blocks from the cache, as found by
   * `cachedPrefix`, and new blocks for the rest of its first `tokens` tokens. Returns false, changing
   * nothing, when too few blocks are free: hit blocks that are free count too, since pinning takes them
   * off the free queue.
   */
  admit(holder: KvHolder, hitBlocks: number, tokens: number): boolean {
    const fresh = Math.max(0, Math.ceil(tokens / this.blockSize) - hitBlocks);
    let revived = 0;
    for (let i = 0; i < hitBlocks; i++) if (this.#ref[this.#byHash.get(holder.hashes[i]!)!] === 0) revived++;
    if (fresh + revived > this.#free) return false;
    for (let i = 0; i < hitBlocks; i++) {
      const b = this.#byHash.get(holder.hashes[i]!)!;
      if (this.#ref[b] === 0) this.#unlink(b);
      this.#ref[b]!++;
      holder.blocks.push(b);
    }
    holder.cachedBlocks = hitBlocks;
    for (let i = 0; i < fresh; i++) holder.blocks.push(this.#take());
    return true;
  }

  /** Adds blocks until `holder` can hold `tokens` tokens; returns false, changing nothing, when too few are free. */
  grow(holder: KvHolder, tokens: number): boolean {
    const more = Math.ceil(tokens / this.blockSize) - holder.blocks.length;
    if (more <= 0) return true;
    if (more > this.#free) return false;
    for (let i = 0; i < more; i++) holder.blocks.push(this.#take());
    return true;
  }

  /** Registers the prompt blocks of `holder` that `computedTokens` now fill, so later prompts can hit them. */
  commit(holder: KvHolder, computedTokens: number): void {
    const full = Math.min(holder.hashes.length, Math.floor(computedTokens / this.blockSize), holder.blocks.length);
    for (let i = holder.cachedBlocks; i < full; i++) {
      const h = holder.hashes[i]!;
      // Another sequence may have computed the same block first; vLLM keeps that one and leaves this one unhashed.
      if (this.#byHash.has(h)) continue;
      const b = holder.blocks[i]!;
      this.#byHash.set(h, b);
      this.#hash[b] = h;
    }
    if (full > holder.cachedBlocks) holder.cachedBlocks = full;
  }

  /** Unpins every block of `holder`. The last block is freed first, so a prompt's leading blocks are evicted last. */
  release(holder: KvHolder): void {
    const { blocks } = holder;
    for (let i = blocks.length - 1; i >= 0; i--) {
      const b = blocks[i]!;
      if (--this.#ref[b]! === 0) this.#append(b);
    }
    blocks.length = 0;
    holder.cachedBlocks = 0;
  }

  /** Takes the least recently freed block, evicting its cached hash. */
  #take(): number {
    const b = this.#next[this.numBlocks]!;
    this.#unlink(b);
    const h = this.#hash[b]!;
    if (!Number.isNaN(h)) {
      if (this.#byHash.get(h) === b) this.#byHash.delete(h);
      this.#hash[b] = NaN;
    }
    this.#ref[b] = 1;
    return b;
  }

  #unlink(b: number): void {
    const p = this.#prev[b]!;
    const n = this.#next[b]!;
    this.#next[p] = n;
    this.#prev[n] = p;
    this.#free--;
  }

  #append(b: number): void {
    const sentinel = this.numBlocks;
    const last = this.#prev[sentinel]!;
    this.#next[last] = b;
    this.#prev[b] = last;
    this.#next[b] = sentinel;
    this.#prev[sentinel] = b;
    this.#free++;
  }
}
