/**
 * The approximate prefix-cache index: which endpoints are believed to hold which prompt blocks, each
 * endpoint's blocks in an LRU list bounded by its capacity. Blocks and holdings live in typed-array columns
 * and two int-pair hash maps, not in JS objects: an index of millions of blocks allocates nothing per request
 * once warm and gives the garbage collector nothing to trace (with objects, GC was 40% of pick time).
 */
import type { Endpoint } from '../datastore/endpoint.js';
import { IntPairMap } from './int-pair-map.js';
import type { BlockHashes } from './prefix-block-hash.js';

const NONE = -1;

/** Growable int32 columns sharing one id space, with a free list threaded through `link`. */
class Columns {
  cols: Int32Array[];
  #link: number;
  #free = NONE;
  #next = 0;

  constructor(count: number, link: number) {
    this.cols = Array.from({ length: count }, () => new Int32Array(1024));
    this.#link = link;
  }

  alloc(): number {
    const id = this.#free;
    if (id !== NONE) {
      this.#free = this.cols[this.#link]?.[id] as number;
      return id;
    }
    if (this.#next === this.cols[0]?.length) {
      this.cols = this.cols.map((c) => {
        const bigger = new Int32Array(c.length * 2);
        bigger.set(c);
        return bigger;
      });
    }
    return this.#next++;
  }

  release(id: number): void {
    (this.cols[this.#link] as Int32Array)[id] = this.#free;
    this.#free = id;
  }
}

// Block columns: the block's hash lanes, its first holder and its number of holders.
const B_KEY = 0;
const B_CHECK = 1;
const B_HEAD = 2;
const B_COUNT = 3;
// Holding columns: who holds which block; the block's holder list; the holder's LRU list; and `up`, the same
// endpoint's holding of the previous block of the prompt it was recorded with (held too: see `match`).
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

export class PrefixIndex {
  /** (key, check) -> block id. */
  readonly #blocks = new IntPairMap();
  /** (block id, server id) -> holding id. */
  readonly #held = new IntPairMap();
  readonly #b = new Columns(4, B_HEAD);
  readonly #h = new Columns(7, H_NEXT);
  readonly #servers = new Map<string, ServerState>();
  readonly #byId: (ServerState | undefined)[] = [];
  readonly #freeIds: number[] = [];
  #epoch = 0;
  #mark = 0;
  #matched: ServerState[] = [];
  #alive: ServerState[] = [];
  #path = new Int32Array(256);
  #fresh = new Int32Array(256);
  /** The hashes of the last `match`, whose `matched` counts `add` may trust. */
  #lastMatch: BlockHashes | null = null;

  /**
   * For every endpoint holding the prompt's first block, how many consecutive leading blocks it holds
   * (`matched`). Returns those endpoints; the array is reused by the next call.
   *
   * Cost: one hash probe per block, plus work only where the set of holders shrinks along the prompt. That
   * relies on the index being prefix-closed (an endpoint holding a block holds the blocks before it), which
   * `add`'s touch order guarantees: earlier blocks are always more recently used, so never evicted first.
   */
  match(h: BlockHashes): readonly ServerState[] {
    const epoch = ++this.#epoch;
    this.#lastMatch = h;
    const matched = this.#matched;
    matched.length = 0;
    if (h.count === 0) return matched;
    let id = this.#blocks.get(h.keys[0] as number, h.checks[0] as number);
    if (id === NONE) return matched;
    const [, , head, count] = this.#b.cols as [Int32Array, Int32Array, Int32Array, Int32Array];
    const hServer = this.#h.cols[H_SERVER] as Int32Array;
    const hNext = this.#h.cols[H_NEXT] as Int32Array;
    const alive = this.#alive;
    alive.length = 0;
    for (let x = head[id] as number; x !== NONE; x = hNext[x] as number) {
      const s = this.#byId[hServer[x] as number] as ServerState;
      s.epoch = epoch;
      alive.push(s);
      matched.push(s);
    }
    let i = 1;
    for (; i < h.count && alive.length > 0; i++) {
      id = this.#blocks.get(h.keys[i] as number, h.checks[i] as number);
      const holders = id === NONE ? 0 : (count[id] as number);
      if (holders === alive.length) continue;
      // Some endpoints stop at block i: the alive ones that do not hold it.
      const mark = ++this.#mark;
      if (holders > 0) for (let x = head[id] as number; x !== NONE; x = hNext[x] as number) (this.#byId[hServer[x] as number] as ServerState).mark = mark;
      let kept = 0;
      for (const s of alive) {
        if (s.mark === mark) alive[kept++] = s;
        else s.matched = i;
      }
      alive.length = kept;
      if (holders === 0) break;
    }
    for (const s of alive) s.matched = i;
    return matched;
  }

  /**
   * Records that `ep` now holds every block of `h`. Blocks are touched last to first, so a prompt's first
   * block is its most recently used: as in vLLM, which frees a sequence's blocks tail first, eviction eats
   * prompts from their ends.
   */
  add(h: BlockHashes, ep: Endpoint, capacity: number): void {
    const s = this.#server(ep, capacity);
    const n = h.count;
    if (n === 0) return;
    if (this.#path.length < n) {
      this.#path = new Int32Array(n);
      this.#fresh = new Int32Array(n);
    }
    const path = this.#path;
    for (let i = 0; i < n; i++) {
      const k = h.keys[i] as number;
      const c = h.checks[i] as number;
      let id = this.#blocks.get(k, c);
      if (id === NONE) {
        id = this.#b.alloc();
        const [key, check, head, count] = this.#b.cols as [Int32Array, Int32Array, Int32Array, Int32Array];
        key[id] = k;
        check[id] = c;
        head[id] = NONE;
        count[id] = 0;
        this.#blocks.set(k, c, id);
      }
      path[i] = id;
    }
    // Blocks 0..m-1 are held already. Right after `match` on these hashes m is known; else find it.
    let m = -1;
    let deepest = NONE;
    if (h === this.#lastMatch) {
      m = s.epoch === this.#epoch ? Math.min(s.matched, n) : 0;
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
    const [hServer, hBlock, , , , , hUp] = this.#h.cols as Int32Array[] as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
    for (let x = deepest, d = m - 1; d >= 0; d--) {
      if (x === NONE || hServer[x] !== s.id || hBlock[x] !== path[d]) {
        // A link that does not lead where it should (a hash collision): look the rest up.
        for (; d >= 0; d--) {
          const y = this.#held.get(path[d] as number, s.id);
          if (y !== NONE) this.#touch(s, y);
        }
        break;
      }
      this.#touch(s, x);
      x = hUp[x] as number;
    }
    if (h === this.#lastMatch) {
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

  /** A new holding of `block` by `s`, linked first in the block's holder list (not yet in the LRU list). */
  #hold(s: ServerState, block: number, up: number): number {
    const x = this.#h.alloc();
    const [hServer, hBlock, hNext, hPrev, hNewer, hOlder, hUp] = this.#h.cols as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
    const head = this.#b.cols[B_HEAD] as Int32Array;
    const count = this.#b.cols[B_COUNT] as Int32Array;
    hServer[x] = s.id;
    hBlock[x] = block;
    hUp[x] = up;
    hNewer[x] = NONE;
    hOlder[x] = NONE;
    hPrev[x] = NONE;
    hNext[x] = head[block] as number;
    if (hNext[x] !== NONE) hPrev[hNext[x] as number] = x;
    head[block] = x;
    count[block] = (count[block] as number) + 1;
    this.#held.set(block, s.id, x);
    s.size++;
    return x;
  }

  /** Makes holding `x` the most recently used of `s`. */
  #touch(s: ServerState, x: number): void {
    if (s.newest === x) return;
    const newer = this.#h.cols[H_NEWER] as Int32Array;
    const older = this.#h.cols[H_OLDER] as Int32Array;
    if (newer[x] !== NONE || older[x] !== NONE || s.oldest === x) this.#unlink(s, x);
    older[x] = s.newest;
    newer[x] = NONE;
    if (s.newest !== NONE) newer[s.newest] = x;
    s.newest = x;
    if (s.oldest === NONE) s.oldest = x;
  }

  #unlink(s: ServerState, x: number): void {
    const newer = this.#h.cols[H_NEWER] as Int32Array;
    const older = this.#h.cols[H_OLDER] as Int32Array;
    const n = newer[x] as number;
    const o = older[x] as number;
    if (n !== NONE) older[n] = o;
    else s.newest = o;
    if (o !== NONE) newer[o] = n;
    else s.oldest = n;
    newer[x] = NONE;
    older[x] = NONE;
  }

  #evict(x: number): void {
    const [hServer, hBlock, hNext, hPrev] = this.#h.cols as [Int32Array, Int32Array, Int32Array, Int32Array];
    const [key, check, head, count] = this.#b.cols as [Int32Array, Int32Array, Int32Array, Int32Array];
    const s = this.#byId[hServer[x] as number] as ServerState;
    const block = hBlock[x] as number;
    this.#unlink(s, x);
    const next = hNext[x] as number;
    const prev = hPrev[x] as number;
    if (prev !== NONE) hNext[prev] = next;
    else head[block] = next;
    if (next !== NONE) hPrev[next] = prev;
    this.#held.delete(block, s.id);
    this.#h.release(x);
    s.size--;
    count[block] = (count[block] as number) - 1;
    if (count[block] === 0) {
      this.#blocks.delete(key[block] as number, check[block] as number);
      this.#b.release(block);
    }
  }

  #clear(s: ServerState): void {
    while (s.oldest !== NONE) this.#evict(s.oldest);
  }
}
