/** The KV cache as vLLM V1's block pool: a fixed number of blocks, a prefix cache by block hash, an LRU free queue. */

/** What the cache keeps for one sequence. The engine's Sequence is one. */
export interface KvHolder {
  /** The ids of the blocks the sequence holds, in token order. */
  readonly blocks: number[];
  /**
   * Chained engine hashes (prefix-hash.ts) of the sequence's full blocks: the prompt's, then, as vLLM's
   * request block hashes grow, each block that fills while decoding. Empty when prefix caching is off.
   */
  readonly hashes: readonly bigint[];
  /** The sequence's token ids (prompt, then output): block i holds ids [i x blockSize, (i + 1) x blockSize). Reported in BlockStored. */
  readonly tokenIds: readonly number[];
  /** The LoRA adapter the blocks were computed with; null for the base model. */
  readonly lora: string | null;
  /** The request's `cache_salt`, in block 0's hash and extra keys; null (or absent) without one. */
  readonly salt?: string | null;
  /** How many leading blocks are registered in the prefix cache (by this sequence or an earlier one). */
  cachedBlocks: number;
}

/**
 * Hears what vLLM's block pool reports as KV events, in the order it happens: blocks registered in the
 * prefix cache, a cached block evicted (its hash dropped when the block is reused), the whole cache reset.
 */
export interface KvCacheListener {
  /**
   * Consecutive blocks of one sequence just registered: `hashes[i]` covers `tokenIds[i x blockSize ..]`
   * (`tokenIds.length === hashes.length x blockSize`); `parent` is the hash of the block before the first,
   * null when the first block starts the prompt. Prompt blocks and decode blocks alike, as vLLM's
   * `cache_full_blocks` reports both. `salt` is the request's `cache_salt` when the first block is block 0.
   */
  stored(hashes: readonly bigint[], parent: bigint | null, tokenIds: readonly number[], lora: string | null, salt?: string | null): void;
  /** A block's hash left the prefix cache (its block is being reused). */
  removed(hash: bigint): void;
  /** Every hash left the prefix cache at once. */
  cleared(): void;
}

/**
 * Invariants: a block is either held (ref > 0) or on the free queue, never both; a cached block keeps its
 * hash while free and is dropped from the cache only when it is reused (evicted), oldest-freed first.
 * Freeing appends to the tail, allocating takes from the head, so the least recently used block goes first.
 * Each hash maps to one block: a second sequence that computes a block already cached leaves its copy
 * unhashed, so every `removed` matches exactly one earlier `stored`.
 */
export class KvCache {
  readonly numBlocks: number;
  readonly blockSize: number;
  readonly #ref: Int32Array;
  /** The prefix-cache hash of each block; undefined when it has none. */
  readonly #hash: (bigint | undefined)[];
  readonly #byHash = new Map<bigint, number>();
  readonly #listener: KvCacheListener | null;
  // The free queue is a doubly linked list over block ids; index `numBlocks` is its sentinel.
  readonly #prev: Int32Array;
  readonly #next: Int32Array;
  #free: number;

  constructor(numBlocks: number, blockSize: number, listener: KvCacheListener | null = null) {
    this.numBlocks = numBlocks;
    this.blockSize = blockSize;
    this.#listener = listener;
    this.#ref = new Int32Array(numBlocks);
    this.#hash = new Array<bigint | undefined>(numBlocks).fill(undefined);
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
  cachedPrefix(hashes: readonly bigint[], max: number): number {
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

  /** Registers the hashed blocks of `holder` (prompt or decode) that `computedTokens` now fill, so later prompts can hit them. */
  commit(holder: KvHolder, computedTokens: number): void {
    const full = Math.min(holder.hashes.length, Math.floor(computedTokens / this.blockSize), holder.blocks.length);
    let runStart = -1;
    for (let i = holder.cachedBlocks; i < full; i++) {
      const h = holder.hashes[i]!;
      // Another sequence may have computed the same block first; vLLM keeps that one and leaves this one unhashed.
      if (this.#byHash.has(h)) {
        if (runStart >= 0) this.#stored(holder, runStart, i);
        runStart = -1;
        continue;
      }
      const b = holder.blocks[i]!;
      this.#byHash.set(h, b);
      this.#hash[b] = h;
      if (runStart < 0) runStart = i;
    }
    if (runStart >= 0) this.#stored(holder, runStart, full);
    if (full > holder.cachedBlocks) holder.cachedBlocks = full;
  }

  /**
   * vLLM's `reset_prefix_cache`: forgets every cached hash and reports `cleared`. Refuses (false, nothing
   * changed) while any block is held, since running sequences would keep blocks the cache no longer knows.
   */
  reset(): boolean {
    if (this.#free !== this.numBlocks) return false;
    this.#byHash.clear();
    this.#hash.fill(undefined);
    this.#listener?.cleared();
    return true;
  }

  #stored(holder: KvHolder, from: number, to: number): void {
    if (this.#listener === null) return;
    const bs = this.blockSize;
    this.#listener.stored(holder.hashes.slice(from, to), from === 0 ? null : holder.hashes[from - 1]!, holder.tokenIds.slice(from * bs, to * bs), holder.lora, from === 0 ? (holder.salt ?? null) : null);
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
    const h = this.#hash[b];
    if (h !== undefined) {
      this.#byHash.delete(h); // a hash maps to one block, and this is it
      this.#hash[b] = undefined;
      this.#listener?.removed(h);
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
