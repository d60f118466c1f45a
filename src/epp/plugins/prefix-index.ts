/**
 * The approximate prefix-cache index: which endpoints are believed to hold which prompt blocks, each
 * endpoint's blocks in an LRU list bounded by its capacity. Blocks and holdings live in typed-array columns
 * and two int-pair hash maps, not in JS objects: an index of millions of blocks allocates nothing per request
 * once warm and gives the garbage collector nothing to trace (with objects, GC was 40% of pick time).
 */
import type { Endpoint } from '../datastore/endpoint.js';
import { IntPairMap } from '../../collections/int-pair-map.js';
import { IntRecords } from '../../collections/int-records.js';
import type { BlockHashes } from './prefix-block-hash.js';

const NONE = -1;
/** A block `match` did not look up. */
const UNKNOWN = -2;

// A block: its hash lanes, its first holding and its number of holdings.
const B = 4;
const B_KEY = 0;
const B_CHECK = 1;
const B_HEAD = 2;
const B_COUNT = 3;
// A holding (an endpoint holds a block): the block's list of holdings, the endpoint's LRU list, and `up`, the
// same endpoint's holding of the previous block of the prompt it was recorded with (held too: see `match`).
const H = 8;
const H_SERVER = 0;
const H_BLOCK = 1;
const H_NEXT = 2;
const H_PREV = 3;
const H_NEWER = 4;
const H_OLDER = 5;
const H_UP = 6;

/** What one endpoint is believed to hold, plus scratch fields of the current match (no per-cycle allocation). */
export class ServerState {
  readonly id: number;
  readonly address: string;
  /** Weak: the datastore owns endpoints; a collected one means it left every pool (see `prune`). */
  endpoint: WeakRef<Endpoint>;
  size = 0;
  capacity: number;
  newest = NONE;
  oldest = NONE;
  /** Leading blocks held, valid for the match numbered `epoch`. */
  matched = 0;
  epoch = 0;
  mark = 0;
  /** Index of the endpoint in the last candidate list it was found in: usually right, so locating is O(1). */
  hint = -1;

  constructor(id: number, endpoint: Endpoint, capacity: number) {
    this.id = id;
    this.address = endpoint.address;
    this.endpoint = new WeakRef(endpoint);
    this.capacity = capacity;
  }
}

/** What `match` learnt that `add` can reuse: the blocks it resolved and how many the picked endpoint holds. */
export interface AddHint {
  /** Block ids of the prompt's first `path.length` blocks, as resolved by `match`. */
  path: readonly number[];
  /** Leading blocks the endpoint held at match time. */
  matched: number;
}

export class PrefixIndex {
  /** (key, check) -> block id. */
  readonly #blocks = new IntPairMap();
  /** (block id, server id) -> holding id. */
  readonly #held = new IntPairMap();
  readonly #b = new IntRecords(B, B_HEAD);
  readonly #h = new IntRecords(H, H_NEXT);
  readonly #servers = new Map<string, ServerState>();
  readonly #byId: (ServerState | undefined)[] = [];
  readonly #freeIds: number[] = [];
  #epoch = 0;
  #mark = 0;
  #matched: ServerState[] = [];
  #alive: ServerState[] = [];
  /** Block ids `match` resolved for `#lastMatch` (UNKNOWN where it did not look), so `add` need not again. */
  #matchPath = new Int32Array(256);
  #matchResolved = 0;
  #path = new Int32Array(256);
  #fresh = new Int32Array(256);
  /** The hashes of the last `match`, whose `matched` counts `add` may trust. */
  #lastMatch: BlockHashes | null = null;

  /**
   * For every endpoint holding the prompt's first block, how many consecutive leading blocks it holds
   * (`matched`). Returns those endpoints; the array is reused by the next call.
   *
   * The index is prefix-closed (an endpoint holding a block holds the blocks before it: `add`'s touch order
   * makes earlier blocks always more recently used, so never evicted first). So along a prompt the holder sets
   * only shrink, and two blocks with as many holders have the same ones. A bisection finds the blocks where
   * the count drops, probing O(drops x log blocks) blocks instead of all 256; only at a drop are holders read.
   */
  match(h: BlockHashes): readonly ServerState[] {
    const epoch = ++this.#epoch;
    this.#lastMatch = h;
    this.#matchResolved = 0;
    const matched = this.#matched;
    matched.length = 0;
    const n = h.count;
    if (n === 0) return matched;
    if (this.#matchPath.length < n) this.#matchPath = new Int32Array(n);
    this.#matchPath.fill(UNKNOWN, 0, n);
    this.#matchResolved = n;
    const first = this.#count(h, 0);
    if (first === 0) return matched;
    const b = this.#b.a;
    const hs = this.#h.a;
    const alive = this.#alive;
    alive.length = 0;
    for (let x = b[(this.#matchPath[0] as number) * B + B_HEAD] as number; x !== NONE; x = hs[x * H + H_NEXT] as number) {
      const s = this.#byId[hs[x * H + H_SERVER] as number] as ServerState;
      s.epoch = epoch;
      s.matched = n;
      alive.push(s);
      matched.push(s);
    }
    this.#drops(h, 0, n - 1, first, this.#count(h, n - 1));
    return matched;
  }

  /** Holders of block i (0 when nobody holds it); records its id in the match path. */
  #count(h: BlockHashes, i: number): number {
    let id = this.#matchPath[i] as number;
    if (id === UNKNOWN) {
      id = this.#blocks.get(h.keys[i] as number, h.checks[i] as number);
      this.#matchPath[i] = id;
    }
    return id === NONE ? 0 : (this.#b.a[id * B + B_COUNT] as number);
  }

  /**
   * Settles every block in (lo, hi] where the holder count drops, left to right, given the counts at lo and hi:
   * the alive endpoints that do not hold such a block i stop there, with `matched = i`.
   */
  #drops(h: BlockHashes, lo: number, hi: number, countLo: number, countHi: number): void {
    if (countLo === countHi || hi <= lo) return;
    if (hi === lo + 1) return this.#dropAt(hi, countHi);
    const mid = (lo + hi) >> 1;
    const countMid = this.#count(h, mid);
    this.#drops(h, lo, mid, countLo, countMid);
    this.#drops(h, mid, hi, countMid, countHi);
  }

  #dropAt(i: number, holders: number): void {
    const alive = this.#alive;
    const mark = ++this.#mark;
    if (holders > 0) {
      const hs = this.#h.a;
      const id = this.#matchPath[i] as number;
      for (let x = this.#b.a[id * B + B_HEAD] as number; x !== NONE; x = hs[x * H + H_NEXT] as number) (this.#byId[hs[x * H + H_SERVER] as number] as ServerState).mark = mark;
    }
    let kept = 0;
    for (const s of alive) {
      if (s.mark === mark) alive[kept++] = s;
      else s.matched = i;
    }
    alive.length = kept;
  }

  /** A copy of what the last `match` (on `h`) found for `ep`, for an `add` that runs later; undefined if stale. */
  /** Leading blocks of `h` that `ep` held at the last `match`, when that match was on `h`; else 0. O(1). */
  matchedBy(h: BlockHashes, ep: Endpoint): number {
    if (h !== this.#lastMatch) return 0;
    const s = this.#servers.get(ep.address);
    return s && s.epoch === this.#epoch ? s.matched : 0;
  }

  hint(h: BlockHashes, ep: Endpoint): AddHint | undefined {
    if (h !== this.#lastMatch) return undefined;
    const s = this.#servers.get(ep.address);
    // A plain array: an Int32Array copy would be allocated off the JS heap, slow at the tail.
    const path = new Array<number>(this.#matchResolved);
    for (let i = 0; i < path.length; i++) path[i] = this.#matchPath[i] as number;
    return { path, matched: s && s.epoch === this.#epoch ? s.matched : 0 };
  }

  /**
   * Records that `ep` now holds every block of `h`. Blocks are touched last to first, so a prompt's first
   * block is its most recently used: as in vLLM, which frees a sequence's blocks tail first, eviction eats
   * prompts from their ends. `hint` (from `hint()` or, when omitted, the last `match` if it was on `h`)
   * saves the lookups `match` already did; it is checked, so a stale one costs only those lookups.
   */
  add(h: BlockHashes, ep: Endpoint, capacity: number, hint?: AddHint): void {
    const fromMatch = hint === undefined && h === this.#lastMatch;
    const s = this.#server(ep, capacity);
    const n = h.count;
    if (n === 0) return;
    if (this.#path.length < n) {
      this.#path = new Int32Array(n);
      this.#fresh = new Int32Array(n);
    }
    const path = this.#path;
    const known = hint ? hint.path : fromMatch ? this.#matchPath : undefined;
    const reuse = hint ? hint.path.length : fromMatch ? this.#matchResolved : 0;
    for (let i = 0; i < n; i++) {
      const k = h.keys[i] as number;
      const c = h.checks[i] as number;
      let id = i < reuse ? ((known as ArrayLike<number>)[i] as number) : NONE;
      if (id === UNKNOWN) id = NONE;
      // A block `match` resolved may have been freed and reused since (another add evicted it): check.
      if (id !== NONE && (this.#b.a[id * B + B_KEY] !== k || this.#b.a[id * B + B_CHECK] !== c || this.#b.a[id * B + B_COUNT] === 0)) id = NONE;
      if (id === NONE) id = this.#blocks.get(k, c);
      if (id === NONE) {
        id = this.#b.alloc();
        const b = this.#b.a;
        b[id * B + B_KEY] = k;
        b[id * B + B_CHECK] = c;
        b[id * B + B_HEAD] = NONE;
        b[id * B + B_COUNT] = 0;
        this.#blocks.set(k, c, id);
      }
      path[i] = id;
    }
    // Blocks 0..m-1 are held already. Right after `match` on these hashes m is known; else find it.
    let m = -1;
    let deepest = NONE;
    if (hint || fromMatch) {
      m = Math.min(hint ? hint.matched : s.epoch === this.#epoch ? s.matched : 0, n);
      deepest = m > 0 ? this.#held.get(path[m - 1] as number, s.id) : NONE;
      if ((m > 0 && deepest === NONE) || (m < n && this.#held.get(path[m] as number, s.id) !== NONE)) m = -1;
    }
    if (m < 0) {
      deepest = NONE;
      for (m = 0; m < n; m++) {
        const x = this.#held.get(path[m] as number, s.id);
        if (x === NONE) break;
        deepest = x;
      }
    }
    const fresh = this.#fresh;
    let up = deepest;
    for (let i = m; i < n; i++) up = fresh[i - m] = this.#hold(s, path[i] as number, up);
    for (let i = n - m - 1; i >= 0; i--) this.#touch(s, fresh[i] as number);
    // Then the held ones, deepest first, by their `up` links: no lookups.
    const hs = this.#h.a;
    for (let x = deepest, d = m - 1; d >= 0; d--) {
      if (x === NONE || hs[x * H + H_SERVER] !== s.id || hs[x * H + H_BLOCK] !== path[d]) {
        // A link that does not lead where it should (a hash collision): look the rest up.
        for (; d >= 0; d--) {
          const y = this.#held.get(path[d] as number, s.id);
          if (y !== NONE) this.#touch(s, y);
        }
        break;
      }
      this.#touch(s, x);
      x = hs[x * H + H_UP] as number;
    }
    if (fromMatch) {
      s.epoch = this.#epoch;
      s.matched = n;
    }
    while (s.size > s.capacity && s.oldest !== NONE) this.#evict(s.oldest);
  }

  /** Drops everything known about an address. */
  forget(address: string): void {
    const s = this.#servers.get(address);
    if (!s) return;
    this.#clear(s);
    this.#servers.delete(address);
    this.#byId[s.id] = undefined;
    this.#freeIds.push(s.id);
  }

  /** Forgets endpoints whose Endpoint object was garbage collected (they left every pool). Returns how many. */
  prune(): number {
    let n = 0;
    for (const [address, s] of this.#servers) {
      if (s.endpoint.deref() === undefined) {
        this.forget(address);
        n++;
      }
    }
    return n;
  }

  /** Blocks believed held by `address` (tests, debug). */
  held(address: string): number {
    return this.#servers.get(address)?.size ?? 0;
  }

  /** Holdings across every endpoint's LRU (llm-d's prefix_indexer_size): O(endpoints). */
  get entries(): number {
    let n = 0;
    for (const s of this.#servers.values()) n += s.size;
    return n;
  }

  get stats(): { servers: number; blocks: number } {
    return { servers: this.#servers.size, blocks: this.#blocks.size };
  }

  #server(ep: Endpoint, capacity: number): ServerState {
    let s = this.#servers.get(ep.address);
    if (!s) {
      const id = this.#freeIds.pop() ?? this.#byId.length;
      s = new ServerState(id, ep, capacity);
      this.#byId[id] = s;
      this.#servers.set(ep.address, s);
    } else if (s.endpoint.deref() !== ep) {
      // Same address, new Endpoint object: the datastore dropped and re-added it, so its cache is gone.
      this.#clear(s);
      s.endpoint = new WeakRef(ep);
    }
    s.capacity = capacity;
    return s;
  }

  /** A new holding of `block` by `s`, first in the block's list of holdings (not yet in the LRU list). */
  #hold(s: ServerState, block: number, up: number): number {
    const x = this.#h.alloc();
    const hs = this.#h.a;
    const b = this.#b.a;
    const at = x * H;
    const head = b[block * B + B_HEAD] as number;
    hs[at + H_SERVER] = s.id;
    hs[at + H_BLOCK] = block;
    hs[at + H_UP] = up;
    hs[at + H_NEWER] = NONE;
    hs[at + H_OLDER] = NONE;
    hs[at + H_PREV] = NONE;
    hs[at + H_NEXT] = head;
    if (head !== NONE) hs[head * H + H_PREV] = x;
    b[block * B + B_HEAD] = x;
    b[block * B + B_COUNT] = (b[block * B + B_COUNT] as number) + 1;
    this.#held.set(block, s.id, x);
    s.size++;
    return x;
  }

  /** Makes holding `x` the most recently used of `s`. */
  #touch(s: ServerState, x: number): void {
    if (s.newest === x) return;
    const hs = this.#h.a;
    const at = x * H;
    if (hs[at + H_NEWER] !== NONE || hs[at + H_OLDER] !== NONE || s.oldest === x) this.#unlink(s, x);
    hs[at + H_OLDER] = s.newest;
    hs[at + H_NEWER] = NONE;
    if (s.newest !== NONE) hs[s.newest * H + H_NEWER] = x;
    s.newest = x;
    if (s.oldest === NONE) s.oldest = x;
  }

  #unlink(s: ServerState, x: number): void {
    const hs = this.#h.a;
    const n = hs[x * H + H_NEWER] as number;
    const o = hs[x * H + H_OLDER] as number;
    if (n !== NONE) hs[n * H + H_OLDER] = o;
    else s.newest = o;
    if (o !== NONE) hs[o * H + H_NEWER] = n;
    else s.oldest = n;
    hs[x * H + H_NEWER] = NONE;
    hs[x * H + H_OLDER] = NONE;
  }

  #evict(x: number): void {
    const hs = this.#h.a;
    const b = this.#b.a;
    const s = this.#byId[hs[x * H + H_SERVER] as number] as ServerState;
    const block = hs[x * H + H_BLOCK] as number;
    this.#unlink(s, x);
    const next = hs[x * H + H_NEXT] as number;
    const prev = hs[x * H + H_PREV] as number;
    if (prev !== NONE) hs[prev * H + H_NEXT] = next;
    else b[block * B + B_HEAD] = next;
    if (next !== NONE) hs[next * H + H_PREV] = prev;
    this.#held.delete(block, s.id);
    this.#h.release(x);
    s.size--;
    const left = (b[block * B + B_COUNT] as number) - 1;
    b[block * B + B_COUNT] = left;
    if (left === 0) {
      this.#blocks.delete(b[block * B + B_KEY] as number, b[block * B + B_CHECK] as number);
      this.#b.release(block);
    }
  }

  #clear(s: ServerState): void {
    while (s.oldest !== NONE) this.#evict(s.oldest);
  }
}
