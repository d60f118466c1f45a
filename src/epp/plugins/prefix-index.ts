/**
 * The approximate prefix-cache index: which endpoints are believed to hold which prompt blocks. One map from
 * block to holders answers "who holds block i" in O(1); one LRU per endpoint bounds what it is believed to hold.
 */
import type { Endpoint } from '../datastore/endpoint.js';
import type { BlockHashes } from './prefix-block-hash.js';

/** One block: its check lane and the endpoints believed to hold it (most blocks have one holder). */
class BlockEntry {
  readonly check: number;
  first: ServerState | null = null;
  rest: ServerState[] | null = null;

  constructor(check: number) {
    this.check = check;
  }

  add(s: ServerState): void {
    if (this.first === null) this.first = s;
    else (this.rest ??= []).push(s);
  }

  /** Removes `s`; true when no holder is left. */
  remove(s: ServerState): boolean {
    if (this.first === s) this.first = this.rest?.pop() ?? null;
    else if (this.rest) {
      const i = this.rest.indexOf(s);
      if (i >= 0) {
        this.rest[i] = this.rest[this.rest.length - 1] as ServerState;
        this.rest.pop();
      }
    }
    return this.first === null;
  }
}

/** What one endpoint is believed to hold, plus scratch fields of the current match (no per-cycle allocation). */
export class ServerState {
  readonly address: string;
  /** Weak: the datastore owns endpoints; a collected one means it left every pool (see `prune`). */
  endpoint: WeakRef<Endpoint>;
  /** Block key -> entry, least recently used first (a Map keeps insertion order). */
  readonly lru = new Map<number, BlockEntry>();
  capacity: number;
  /** Cycle number of `matched`. */
  epoch = 0;
  /** Leading blocks held, valid when `epoch` is the current match's. */
  matched = 0;
  /** Index of the endpoint in the last candidate list it was found in: usually right, so lookups are O(1). */
  hint = -1;

  constructor(endpoint: Endpoint, capacity: number) {
    this.address = endpoint.address;
    this.endpoint = new WeakRef(endpoint);
    this.capacity = capacity;
  }
}

export class PrefixIndex {
  #blocks = new Map<number, BlockEntry>();
  #servers = new Map<string, ServerState>();
  #epoch = 0;
  #matched: ServerState[] = [];

  /**
   * For every endpoint holding the first block, how many consecutive leading blocks it holds (`matched`).
   * Returns those endpoints; the array is reused by the next call. Cost: one lookup per matched block plus
   * one step per holder, not per candidate (a cold prompt costs one lookup).
   */
  match(h: BlockHashes): readonly ServerState[] {
    const epoch = ++this.#epoch;
    const matched = this.#matched;
    matched.length = 0;
    for (let i = 0; i < h.count; i++) {
      const e = this.#blocks.get(h.keys[i] ?? 0);
      if (!e || e.check !== h.checks[i]) break;
      let extended = 0;
      if (e.first && extend(e.first, i, epoch, matched)) extended++;
      if (e.rest) for (const s of e.rest) if (extend(s, i, epoch, matched)) extended++;
      if (extended === 0) break;
    }
    return matched;
  }

  /**
   * Records that `ep` now holds every block of `h`. Blocks are touched last to first, so the first block is
   * the most recently used: as in vLLM, which frees a sequence's blocks tail first, eviction eats prompts
   * from their ends and a held block implies its prefix is held.
   */
  add(h: BlockHashes, ep: Endpoint, capacity: number): void {
    let s = this.#servers.get(ep.address);
    if (!s) {
      s = new ServerState(ep, capacity);
      this.#servers.set(ep.address, s);
    } else if (s.endpoint.deref() !== ep) {
      // Same address, new Endpoint object: the datastore dropped and re-added it, so its cache is gone.
      this.#clear(s);
      s.endpoint = new WeakRef(ep);
    }
    s.capacity = capacity;
    const lru = s.lru;
    for (let i = h.count - 1; i >= 0; i--) {
      const key = h.keys[i] ?? 0;
      const check = h.checks[i] ?? 0;
      const held = lru.get(key);
      if (held) {
        lru.delete(key);
        if (held.check === check && this.#blocks.get(key) === held) {
          lru.set(key, held);
          continue;
        }
        // A 31-bit key collision replaced the entry: drop the stale one, then index the block afresh.
        this.#release(held, s, key);
      }
      let e = this.#blocks.get(key);
      if (!e || e.check !== check) {
        e = new BlockEntry(check);
        this.#blocks.set(key, e);
      }
      e.add(s);
      lru.set(key, e);
    }
    while (lru.size > s.capacity) {
      const oldest = lru.keys().next().value as number;
      const e = lru.get(oldest) as BlockEntry;
      lru.delete(oldest);
      this.#release(e, s, oldest);
    }
  }

  /** Drops everything known about an address. */
  forget(address: string): void {
    const s = this.#servers.get(address);
    if (!s) return;
    this.#clear(s);
    this.#servers.delete(address);
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
    return this.#servers.get(address)?.lru.size ?? 0;
  }

  get stats(): { servers: number; blocks: number } {
    return { servers: this.#servers.size, blocks: this.#blocks.size };
  }

  #clear(s: ServerState): void {
    for (const [key, e] of s.lru) this.#release(e, s, key);
    s.lru.clear();
  }

  #release(e: BlockEntry, s: ServerState, key: number): void {
    if (e.remove(s) && this.#blocks.get(key) === e) this.#blocks.delete(key);
  }
}

/** Block i is held by `s`: extends its run if it held blocks 0..i-1. */
function extend(s: ServerState, i: number, epoch: number, matched: ServerState[]): boolean {
  if (i === 0) {
    s.epoch = epoch;
    s.matched = 1;
    matched.push(s);
    return true;
  }
  if (s.epoch === epoch && s.matched === i) {
    s.matched = i + 1;
    return true;
  }
  return false;
}
