/**
 * Index writes as a flat Int32Array, so the ingestion worker can send the request thread what to change in the
 * block index as one transferable buffer per event-loop turn instead of an object graph. The request thread applies
 * them in order with plain map operations; decoding, sequencing and key hashing stay in the worker.
 */
import type { BlockIndex } from './block-index.js';
import type { BlockKeys } from './block-key.js';

/** What the ingestor writes to: the block index itself (in-thread), or an {@link IndexOpEncoder} (in the worker). */
export interface IndexWriter {
  /** `podId` holds keys [from, to) of `keys` in `tier`, in chain order. */
  addKeys(keys: BlockKeys, podId: number, tier: number, from?: number, to?: number): void;
  /** `podId` holds the one key (hi, lo) in `tier` (an offload to another tier). */
  add(hi: number, lo: number, podId: number, tier: number): void;
  /** `podId` no longer holds (hi, lo) in `tiers`. */
  evict(hi: number, lo: number, podId: number, tiers: number): unknown;
  /** Whether any pod still holds (hi, lo): the engine-hash map forgets a hash whose keys nobody holds. */
  hasKey(hi: number, lo: number): boolean;
  /** Drops every holding of `podId`. */
  clearPod(podId: number): unknown;
}

// Each op: [code, pod, tier, count, count x (hi, lo)], or [OP_CLEAR, pod].
const OP_ADD_KEYS = 1;
const OP_ADD = 2;
const OP_EVICT = 3;
const OP_CLEAR = 4;

/**
 * Records index writes. Consecutive single adds or evictions of one pod and tier share one op. `hasKey` answers
 * true: the worker cannot see the index, so the engine-hash map keeps a removed hash until its LRU drops it
 * (bounded by the index's capacity), which only costs memory; a later store of that hash replaces the entry.
 */
export class IndexOpEncoder implements IndexWriter {
  #a = new Int32Array(1024);
  #n = 0;
  /** Where the open run of single adds/evictions starts (its count is at +3), or -1. */
  #run = -1;
  readonly #onFirstWrite: (() => void) | undefined;

  /** `onFirstWrite` is called when an op is written to an empty encoder (to schedule a flush). */
  constructor(onFirstWrite?: () => void) {
    this.#onFirstWrite = onFirstWrite;
  }

  /** Int32 words written since the last `take`. */
  get length(): number {
    return this.#n;
  }

  addKeys(keys: BlockKeys, podId: number, tier: number, from = 0, to = keys.count): void {
    if (to <= from) return;
    this.#run = -1;
    this.#reserve(4 + 2 * (to - from));
    const a = this.#a;
    let i = this.#n;
    a[i++] = OP_ADD_KEYS;
    a[i++] = podId;
    a[i++] = tier;
    a[i++] = to - from;
    a.set(keys.keys.subarray(2 * from, 2 * to), i);
    this.#n = i + 2 * (to - from);
  }

  add(hi: number, lo: number, podId: number, tier: number): void {
    this.#single(OP_ADD, hi, lo, podId, tier);
  }

  evict(hi: number, lo: number, podId: number, tiers: number): void {
    this.#single(OP_EVICT, hi, lo, podId, tiers);
  }

  hasKey(): boolean {
    return true;
  }

  clearPod(podId: number): void {
    this.#run = -1;
    this.#reserve(2);
    this.#a[this.#n++] = OP_CLEAR;
    this.#a[this.#n++] = podId;
  }

  /** The ops so far, in a buffer of their own (to transfer); the encoder starts empty. */
  take(): Int32Array {
    const out = this.#a.slice(0, this.#n);
    this.#n = 0;
    this.#run = -1;
    return out;
  }

  #single(op: number, hi: number, lo: number, podId: number, tier: number): void {
    const r = this.#run;
    const a = this.#a;
    if (r >= 0 && a[r] === op && a[r + 1] === podId && a[r + 2] === tier) {
      this.#reserve(2);
      this.#a[this.#n++] = hi;
      this.#a[this.#n++] = lo;
      this.#a[r + 3] = (this.#a[r + 3] as number) + 1;
      return;
    }
    this.#reserve(6);
    const b = this.#a;
    this.#run = this.#n;
    b[this.#n++] = op;
    b[this.#n++] = podId;
    b[this.#n++] = tier;
    b[this.#n++] = 1;
    b[this.#n++] = hi;
    b[this.#n++] = lo;
  }

  #reserve(words: number): void {
    if (this.#n === 0) this.#onFirstWrite?.();
    if (this.#n + words <= this.#a.length) return;
    let len = this.#a.length * 2;
    while (len < this.#n + words) len *= 2;
    const bigger = new Int32Array(len);
    bigger.set(this.#a.subarray(0, this.#n));
    this.#a = bigger;
  }
}

/**
 * Applies encoded ops to `index`, in order. `podOf` maps the op's pod (the worker's feed id) to the index's pod id,
 * or -1 for a feed that has gone since (its ops are skipped). Returns how many keys were written.
 */
export function applyIndexOps(ops: Int32Array, index: BlockIndex, podOf: (feed: number) => number): number {
  let written = 0;
  let lastFeed = Number.NaN;
  let pod = -1;
  const keys = { count: 0, keys: ops };
  for (let i = 0; i < ops.length; ) {
    const op = ops[i] as number;
    const feed = ops[i + 1] as number;
    if (feed !== lastFeed) {
      lastFeed = feed;
      pod = podOf(feed);
    }
    if (op === OP_CLEAR) {
      if (pod >= 0) index.clearPod(pod);
      i += 2;
      continue;
    }
    const tier = ops[i + 2] as number;
    const count = ops[i + 3] as number;
    const at = i + 4;
    i = at + 2 * count;
    if (pod < 0) continue;
    written += count;
    if (op === OP_ADD_KEYS) {
      // addKeys reads keys [from, to) of a BlockKeys: the op's words, addressed in place.
      keys.count = at / 2 + count;
      index.addKeys(keys, pod, tier, at / 2, at / 2 + count);
    } else if (op === OP_ADD) {
      for (let j = at; j < i; j += 2) index.add(ops[j] as number, ops[j + 1] as number, pod, tier);
    } else if (op === OP_EVICT) {
      for (let j = at; j < i; j += 2) index.evict(ops[j] as number, ops[j + 1] as number, pod, tier);
    } else throw new RangeError(`unknown index op ${op} at word ${i}`);
  }
  return written;
}
