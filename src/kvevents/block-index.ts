/**
 * The precise KV-block index (llm-d's in-memory `kvblock.Index`): request key -> the pods holding that block, per
 * device tier, at most `podsPerKey` pods a key (the most recently stored win), at most `capacity` keys (the least
 * recently stored leave first; lookups only read, so they cost no writes and could run on a shared copy). Blocks and holdings live in typed-array records and int-pair hash maps,
 * as the approximate index's do: millions of blocks give the garbage collector nothing to trace.
 */
import { IntPairMap } from '../collections/int-pair-map.js';
import { IntRecords } from '../collections/int-records.js';
import type { BlockKeys } from './block-key.js';
import { ALL_TIERS, DEFAULT_TIER_WEIGHTS, TIER_CPU, TIER_GPU, TIER_OTHER, TIER_SPECULATIVE, type TierWeights } from './device-tiers.js';

const NONE = -1;

// A block: its key, its list of holdings (most recently stored first), its place in the LRU of blocks.
const B = 8;
const B_HI = 0;
const B_LO = 1;
const B_HEAD = 2;
const B_COUNT = 3;
const B_NEWER = 4;
const B_OLDER = 5;
/**
 * The block last stored right after this one in a chain (a hint, checked by key before use): a lookup walking a
 * prompt follows it instead of probing the key map, one random memory access instead of two or three.
 */
const B_CHILD = 6;
// A holding: a pod holds a block, in the tiers of its bitmask; linked into the block's list and the pod's list.
const H = 8;
const H_POD = 0;
const H_BLOCK = 1;
const H_NEXT = 2;
const H_PREV = 3;
const H_POD_NEXT = 4;
const H_POD_PREV = 5;
const H_TIERS = 6;

export interface BlockIndexOptions {
  /** Keys kept at most (llm-d's `inMemoryConfig.size`). */
  capacity: number;
  /** Pods kept per key at most (llm-d's `inMemoryConfig.podCacheSize`, default 10). */
  podsPerKey: number;
  tierWeights?: TierWeights;
}

/**
 * What one lookup found: for each pod holding the first block, how many leading blocks it holds in a row, and
 * their tier-weighted sum (llm-d's LongestPrefixScorer). Valid until the next lookup (the arrays are reused).
 */
export interface LookupResult {
  size: number;
  readonly pods: number[];
  readonly matched: number[];
  readonly scores: number[];
}

/** Lifetime counts, for llm-d's `kv_cache_index_*` counters. */
export interface BlockIndexStats {
  admissions: number;
  evictions: number;
  lookups: number;
  lookupHits: number;
}

interface PodSlot {
  address: string;
  head: number;
  size: number;
}

export class BlockIndex {
  readonly capacity: number;
  readonly podsPerKey: number;
  readonly stats: BlockIndexStats = { admissions: 0, evictions: 0, lookups: 0, lookupHits: 0 };
  readonly #w: readonly number[];
  readonly #blocks = new IntPairMap(4096);
  readonly #held = new IntPairMap(4096);
  readonly #b = new IntRecords(B, B_NEWER);
  readonly #h = new IntRecords(H, H_NEXT);
  #size = 0;
  #holdings = 0;
  #newest = NONE;
  #oldest = NONE;
  readonly #pods: (PodSlot | undefined)[] = [];
  readonly #podIds = new Map<string, number>();
  readonly #freePods: number[] = [];
  // Lookup scratch, per pod id.
  #mark = new Int32Array(64);
  #weight = new Float64Array(64);
  #score = new Float64Array(64);
  #count = new Int32Array(64);
  #stamp = 0;
  readonly #alive: number[] = [];
  readonly #result: LookupResult = { size: 0, pods: [], matched: [], scores: [] };

  constructor(options: BlockIndexOptions) {
    if (!(options.capacity >= 1) || !(options.podsPerKey >= 1)) throw new RangeError('capacity and podsPerKey must be at least 1');
    this.capacity = Math.floor(options.capacity);
    this.podsPerKey = Math.floor(options.podsPerKey);
    const w = options.tierWeights ?? DEFAULT_TIER_WEIGHTS;
    // Weight of a tier bitmask: the best tier it has (fillMaxWeights). Speculative entries weigh as the GPU.
    this.#w = Array.from({ length: ALL_TIERS + 1 }, (_, m) =>
      Math.max(m & TIER_GPU ? w.gpu : 0, m & TIER_CPU ? w.cpu : 0, m & TIER_OTHER ? w.other : 0, m & TIER_SPECULATIVE ? w.gpu : 0),
    );
  }

  /** Keys held by at least one pod. */
  get size(): number {
    return this.#size;
  }

  /** (key, pod) pairs: llm-d's pod entries. */
  get holdings(): number {
    return this.#holdings;
  }

  /** The id of the pod at `address`, made on first use. Ids are small and reused once a pod is removed. */
  podId(address: string): number {
    let id = this.#podIds.get(address);
    if (id !== undefined) return id;
    id = this.#freePods.pop() ?? this.#pods.length;
    this.#pods[id] = { address, head: NONE, size: 0 };
    this.#podIds.set(address, id);
    if (id >= this.#mark.length) this.#growScratch(id + 1);
    return id;
  }

  /** The id of `address`, or -1 when the index has never heard of it. */
  findPod(address: string): number {
    return this.#podIds.get(address) ?? NONE;
  }

  addressOf(podId: number): string | undefined {
    return this.#pods[podId]?.address;
  }

  /** Blocks `podId` holds (any tier). */
  heldBy(podId: number): number {
    return this.#pods[podId]?.size ?? 0;
  }

  /** Records that `podId` holds keys [from, to) of `keys` in `tier`; each becomes the most recent. */
  addKeys(keys: BlockKeys, podId: number, tier: number, from = 0, to = keys.count): void {
    const k = keys.keys;
    let prev = NONE;
    for (let i = from; i < to; i++) {
      const b = this.#addBlock(k[2 * i] as number, k[2 * i + 1] as number, podId, tier);
      if (prev !== NONE && b !== NONE && this.#live(prev)) this.#b.a[prev * B + B_CHILD] = b;
      prev = b;
    }
  }

  /** Records that `podId` holds the block keyed (hi, lo) in `tier`. */
  add(hi: number, lo: number, podId: number, tier: number): void {
    this.#addBlock(hi, lo, podId, tier);
  }

  /** `add`, returning the block's id (NONE for an unknown pod). */
  #addBlock(hi: number, lo: number, podId: number, tier: number): number {
    const pod = this.#pods[podId];
    if (!pod) return NONE;
    let b = this.#blocks.get(hi, lo);
    if (b === NONE) {
      if (this.#size >= this.capacity) this.#evictOldest();
      b = this.#b.alloc();
      const a = this.#b.a;
      const at = b * B;
      a[at + B_HI] = hi;
      a[at + B_LO] = lo;
      a[at + B_HEAD] = NONE;
      a[at + B_COUNT] = 0;
      a[at + B_NEWER] = NONE;
      a[at + B_OLDER] = NONE;
      a[at + B_CHILD] = NONE;
      this.#blocks.set(hi, lo, b);
      this.#size++;
      this.#touch(b, true);
    } else this.#touch(b, false);
    let x = this.#held.get(b, podId);
    if (x !== NONE) {
      const hs = this.#h.a;
      hs[x * H + H_TIERS] = (hs[x * H + H_TIERS] as number) | tier;
      this.#toFront(b, x);
      return b;
    }
    x = this.#h.alloc();
    const hs = this.#h.a;
    const at = x * H;
    hs[at + H_POD] = podId;
    hs[at + H_BLOCK] = b;
    hs[at + H_TIERS] = tier;
    hs[at + H_PREV] = NONE;
    const a = this.#b.a;
    const head = a[b * B + B_HEAD] as number;
    hs[at + H_NEXT] = head;
    if (head !== NONE) hs[head * H + H_PREV] = x;
    a[b * B + B_HEAD] = x;
    a[b * B + B_COUNT] = (a[b * B + B_COUNT] as number) + 1;
    hs[at + H_POD_PREV] = NONE;
    hs[at + H_POD_NEXT] = pod.head;
    if (pod.head !== NONE) hs[pod.head * H + H_POD_PREV] = x;
    pod.head = x;
    pod.size++;
    this.#held.set(b, podId, x);
    this.#holdings++;
    this.stats.admissions++;
    // After the insert, so the block never empties (and is freed) under the pod being added to it.
    if ((a[b * B + B_COUNT] as number) > this.podsPerKey) this.#removeHolding(this.#oldestHolding(b));
    return b;
  }

  /** Whether block id `b` is in use (a hint may point at a freed or reused one). */
  #live(b: number): boolean {
    return (this.#b.a[b * B + B_COUNT] as number) > 0;
  }

  /** Removes `podId`'s holding of (hi, lo) in the tiers of `tiers`; the holding goes when no tier is left. */
  evict(hi: number, lo: number, podId: number, tiers: number): boolean {
    const b = this.#blocks.get(hi, lo);
    if (b === NONE) return false;
    const x = this.#held.get(b, podId);
    if (x === NONE) return false;
    const hs = this.#h.a;
    const left = (hs[x * H + H_TIERS] as number) & ~tiers;
    if (left !== 0) {
      hs[x * H + H_TIERS] = left;
      return true;
    }
    this.#removeHolding(x);
    return true;
  }

  /** Whether any pod holds (hi, lo). */
  hasKey(hi: number, lo: number): boolean {
    return this.#blocks.get(hi, lo) !== NONE;
  }

  /** Whether `podId` holds (hi, lo) in any of `tiers`. */
  holds(hi: number, lo: number, podId: number, tiers = ALL_TIERS): boolean {
    const b = this.#blocks.get(hi, lo);
    const x = b === NONE ? NONE : this.#held.get(b, podId);
    return x !== NONE && ((this.#h.a[x * H + H_TIERS] as number) & tiers) !== 0;
  }

  /** Drops every holding of `podId` (AllBlocksCleared, a broken stream); returns how many. The pod keeps its id. */
  clearPod(podId: number): number {
    const pod = this.#pods[podId];
    if (!pod) return 0;
    const n = pod.size;
    while (pod.head !== NONE) this.#removeHolding(pod.head);
    return n;
  }

  /** Drops the pod and its id (it left every pool). */
  removePod(address: string): void {
    const id = this.#podIds.get(address);
    if (id === undefined) return;
    this.clearPod(id);
    this.#podIds.delete(address);
    this.#pods[id] = undefined;
    this.#freePods.push(id);
  }

  /**
   * Longest prefix per pod (llm-d's LongestPrefixScorer): walk the keys in order, keeping the pods that hold every
   * block so far; each block held adds its tier weight. Stops at the first key nobody (still in the running) holds.
   * Read-only; O(keys walked x podsPerKey), no allocation once warm.
   */
  lookup(keys: BlockKeys, limit = keys.count): LookupResult {
    const r = this.#result;
    r.size = 0;
    this.stats.lookups++;
    const n = Math.min(limit, keys.count);
    if (n === 0) return r;
    const k = keys.keys;
    let b = this.#blocks.get(k[0] as number, k[1] as number);
    if (b === NONE) return r;
    const a = this.#b.a;
    const hs = this.#h.a;
    const alive = this.#alive;
    alive.length = 0;
    const score = this.#score;
    const count = this.#count;
    const mark = this.#mark;
    const weight = this.#weight;
    for (let x = a[b * B + B_HEAD] as number; x !== NONE; x = hs[x * H + H_NEXT] as number) {
      const pod = hs[x * H + H_POD] as number;
      alive.push(pod);
      score[pod] = this.#w[hs[x * H + H_TIERS] as number] as number;
      count[pod] = 1;
    }
    let i = 1;
    for (; i < n && alive.length > 0; i++) {
      const hi = k[2 * i] as number;
      const lo = k[2 * i + 1] as number;
      const c = a[b * B + B_CHILD] as number;
      b = c !== NONE && a[c * B + B_HI] === hi && a[c * B + B_LO] === lo && (a[c * B + B_COUNT] as number) > 0 ? c : this.#blocks.get(hi, lo);
      if (b === NONE) break;
      const stamp = ++this.#stamp;
      for (let x = a[b * B + B_HEAD] as number; x !== NONE; x = hs[x * H + H_NEXT] as number) {
        const pod = hs[x * H + H_POD] as number;
        mark[pod] = stamp;
        weight[pod] = this.#w[hs[x * H + H_TIERS] as number] as number;
      }
      let kept = 0;
      for (const pod of alive) {
        if (mark[pod] === stamp) {
          score[pod] = (score[pod] as number) + (weight[pod] as number);
          count[pod] = (count[pod] as number) + 1;
          alive[kept++] = pod;
        } else this.#emit(pod);
      }
      alive.length = kept;
    }
    for (const pod of alive) this.#emit(pod);
    let best = 0;
    for (let j = 0; j < r.size; j++) best = Math.max(best, r.matched[j] as number);
    this.stats.lookupHits += best;
    return r;
  }

  #emit(pod: number): void {
    const r = this.#result;
    const j = r.size++;
    r.pods[j] = pod;
    r.matched[j] = this.#count[pod] as number;
    r.scores[j] = this.#score[pod] as number;
  }

  #growScratch(n: number): void {
    let len = this.#mark.length;
    while (len < n) len *= 2;
    const grow = <T extends Int32Array | Float64Array>(old: T, make: (len: number) => T): T => {
      const bigger = make(len);
      bigger.set(old);
      return bigger;
    };
    this.#mark = grow(this.#mark, (l) => new Int32Array(l));
    this.#count = grow(this.#count, (l) => new Int32Array(l));
    this.#weight = grow(this.#weight, (l) => new Float64Array(l));
    this.#score = grow(this.#score, (l) => new Float64Array(l));
  }

  /** Makes block `b` the most recently used (`fresh`: not linked yet). */
  #touch(b: number, fresh: boolean): void {
    if (!fresh && this.#newest === b) return;
    const a = this.#b.a;
    if (!fresh) this.#unlinkLru(b);
    a[b * B + B_OLDER] = this.#newest;
    a[b * B + B_NEWER] = NONE;
    if (this.#newest !== NONE) a[this.#newest * B + B_NEWER] = b;
    this.#newest = b;
    if (this.#oldest === NONE) this.#oldest = b;
  }

  #unlinkLru(b: number): void {
    const a = this.#b.a;
    const newer = a[b * B + B_NEWER] as number;
    const older = a[b * B + B_OLDER] as number;
    if (newer !== NONE) a[newer * B + B_OLDER] = older;
    else this.#newest = older;
    if (older !== NONE) a[older * B + B_NEWER] = newer;
    else this.#oldest = newer;
  }

  /** Capacity reached: the least recently used key goes, with every pod's holding of it. */
  #evictOldest(): void {
    const b = this.#oldest;
    if (b === NONE) return;
    this.stats.evictions++;
    const a = this.#b.a;
    while ((a[b * B + B_HEAD] as number) !== NONE) this.#removeHolding(a[b * B + B_HEAD] as number);
  }

  /** The holding of `b` stored longest ago (the tail of its list; at most podsPerKey steps). */
  #oldestHolding(b: number): number {
    const hs = this.#h.a;
    let x = this.#b.a[b * B + B_HEAD] as number;
    while ((hs[x * H + H_NEXT] as number) !== NONE) x = hs[x * H + H_NEXT] as number;
    return x;
  }

  /** Moves holding `x` to the front of block `b`'s list: the most recently stored pod. */
  #toFront(b: number, x: number): void {
    const a = this.#b.a;
    const hs = this.#h.a;
    if (a[b * B + B_HEAD] === x) return;
    const prev = hs[x * H + H_PREV] as number;
    const next = hs[x * H + H_NEXT] as number;
    if (prev !== NONE) hs[prev * H + H_NEXT] = next;
    if (next !== NONE) hs[next * H + H_PREV] = prev;
    const head = a[b * B + B_HEAD] as number;
    hs[x * H + H_PREV] = NONE;
    hs[x * H + H_NEXT] = head;
    if (head !== NONE) hs[head * H + H_PREV] = x;
    a[b * B + B_HEAD] = x;
  }

  #removeHolding(x: number): void {
    const hs = this.#h.a;
    const a = this.#b.a;
    const at = x * H;
    const b = hs[at + H_BLOCK] as number;
    const podId = hs[at + H_POD] as number;
    const prev = hs[at + H_PREV] as number;
    const next = hs[at + H_NEXT] as number;
    if (prev !== NONE) hs[prev * H + H_NEXT] = next;
    else a[b * B + B_HEAD] = next;
    if (next !== NONE) hs[next * H + H_PREV] = prev;
    const pod = this.#pods[podId];
    const pPrev = hs[at + H_POD_PREV] as number;
    const pNext = hs[at + H_POD_NEXT] as number;
    if (pPrev !== NONE) hs[pPrev * H + H_POD_NEXT] = pNext;
    else if (pod) pod.head = pNext;
    if (pNext !== NONE) hs[pNext * H + H_POD_PREV] = pPrev;
    if (pod) pod.size--;
    this.#held.delete(b, podId);
    this.#h.release(x);
    this.#holdings--;
    const left = (a[b * B + B_COUNT] as number) - 1;
    a[b * B + B_COUNT] = left;
    if (left === 0) {
      this.#unlinkLru(b);
      this.#blocks.delete(a[b * B + B_HI] as number, a[b * B + B_LO] as number);
      this.#b.release(b);
      this.#size--;
    }
  }
}
