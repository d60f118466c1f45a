/**
 * One pod's engine hash -> request keys map (llm-d's `engineToRequestKeys`): `BlockRemoved` carries only the
 * engine's hashes, and a `BlockStored` chains on its parent's engine hash, so both are resolved here. Each entry
 * also keeps the tiers the engine reported the block in, and goes when the last tier is removed.
 */
import { IntPairMap } from '../epp/plugins/int-pair-map.js';
import { IntRecords } from '../epp/plugins/int-records.js';
import type { BlockKey, BlockKeys } from './block-key.js';
import type { BlockHash } from './wire-format.js';

const NONE = -1;
// A record: one request key of an engine hash's chain; the first record of a chain holds the tiers.
const R = 4;
const R_HI = 0;
const R_LO = 1;
const R_NEXT = 2;
const R_TIERS = 3;

/** The two int32 halves of an engine hash (a uint64 bigint). */
export function hashHalves(h: BlockHash): [number, number] {
  return [Number(BigInt.asUintN(32, h >> 32n)) | 0, Number(BigInt.asUintN(32, h)) | 0];
}

export class EngineKeyMap {
  readonly #map = new IntPairMap(256);
  readonly #r = new IntRecords(R, R_NEXT);

  /** Engine hashes mapped. */
  get size(): number {
    return this.#map.size;
  }

  /** Maps the engine hash (hi, lo) to request keys [from, to) of `keys`, held in `tier`; replaces a previous mapping's keys. */
  set(hi: number, lo: number, keys: BlockKeys, from: number, to: number, tier: number): void {
    if (to <= from) return;
    const old = this.#map.get(hi, lo);
    const tiers = old === NONE ? tier : (this.#r.a[old * R + R_TIERS] as number) | tier;
    if (old !== NONE) this.#release(old);
    let first = NONE;
    let prev = NONE;
    for (let i = from; i < to; i++) {
      const x = this.#r.alloc();
      const a = this.#r.a;
      a[x * R + R_HI] = keys.keys[2 * i] as number;
      a[x * R + R_LO] = keys.keys[2 * i + 1] as number;
      a[x * R + R_NEXT] = NONE;
      a[x * R + R_TIERS] = 0;
      if (prev === NONE) first = x;
      else a[prev * R + R_NEXT] = x;
      prev = x;
    }
    this.#r.a[first * R + R_TIERS] = tiers;
    this.#map.set(hi, lo, first);
  }

  /** Adds `tier` to an existing mapping (an offload to another medium) and visits its request keys; false if unmapped. */
  addTier(hi: number, lo: number, tier: number, visit: (hi: number, lo: number) => void): boolean {
    const first = this.#map.get(hi, lo);
    if (first === NONE) return false;
    const a = this.#r.a;
    a[first * R + R_TIERS] = (a[first * R + R_TIERS] as number) | tier;
    this.#each(first, visit);
    return true;
  }

  /** The last request key the engine hash maps to (a child block chains on it), or null. */
  lastKey(hi: number, lo: number): BlockKey | null {
    let x = this.#map.get(hi, lo);
    if (x === NONE) return null;
    const a = this.#r.a;
    while ((a[x * R + R_NEXT] as number) !== NONE) x = a[x * R + R_NEXT] as number;
    return { hi: a[x * R + R_HI] as number, lo: a[x * R + R_LO] as number };
  }

  /**
   * Removes `tiers` from the engine hash's mapping and visits its request keys (to evict them in those tiers);
   * the mapping goes when no tier is left. False when the hash is unknown (nothing to evict).
   */
  remove(hi: number, lo: number, tiers: number, visit: (hi: number, lo: number) => void): boolean {
    const first = this.#map.get(hi, lo);
    if (first === NONE) return false;
    this.#each(first, visit);
    const a = this.#r.a;
    const left = (a[first * R + R_TIERS] as number) & ~tiers;
    if (left !== 0) a[first * R + R_TIERS] = left;
    else {
      this.#map.delete(hi, lo);
      this.#release(first);
    }
    return true;
  }

  #each(first: number, visit: (hi: number, lo: number) => void): void {
    const a = this.#r.a;
    for (let x = first; x !== NONE; x = a[x * R + R_NEXT] as number) visit(a[x * R + R_HI] as number, a[x * R + R_LO] as number);
  }

  #release(first: number): void {
    for (let x = first; x !== NONE; ) {
      const next = this.#r.a[x * R + R_NEXT] as number;
      this.#r.release(x);
      x = next;
    }
  }
}
