/**
 * Engine hash -> request keys (llm-d's `engineToRequestKeys`): `BlockRemoved` carries only the engine's hashes, and
 * a `BlockStored` chains on its parent's engine hash, so both are resolved here. One map for every pod, as llm-d's
 * (pods with the same hash seed share entries), least recently stored out first past `capacity`: its memory is
 * bounded like the index's, whatever the pods send. An entry whose keys no pod holds any more is dropped.
 */
import { IntPairMap } from '../collections/int-pair-map.js';
import { IntRecords } from '../collections/int-records.js';
import type { BlockKey, BlockKeys } from './block-key.js';
import type { BlockHash } from './wire-format.js';

const NONE = -1;
// A record: one request key of an engine hash's chain. The first record of a chain also holds the engine hash
// (to unmap it when it leaves) and its place in the LRU.
const R = 8;
const R_HI = 0;
const R_LO = 1;
const R_NEXT = 2;
const R_NEWER = 3;
const R_OLDER = 4;
const R_EHI = 5;
const R_ELO = 6;

/** The two int32 halves of an engine hash (a uint64 bigint). */
export function hashHalves(h: BlockHash): [number, number] {
  return [Number(BigInt.asUintN(32, h >> 32n)) | 0, Number(BigInt.asUintN(32, h)) | 0];
}

export class EngineKeyMap {
  readonly capacity: number;
  readonly #map = new IntPairMap(1024);
  readonly #r = new IntRecords(R, R_NEXT);
  #newest = NONE;
  #oldest = NONE;
  /** Entries dropped to stay within capacity (a later BlockRemoved of theirs finds nothing). */
  evictions = 0;

  constructor(capacity: number) {
    this.capacity = Math.max(1, Math.floor(capacity));
  }

  /** Engine hashes mapped. */
  get size(): number {
    return this.#map.size;
  }

  /** Maps the engine hash (hi, lo) to request keys [from, to) of `keys`, replacing what it mapped to; now the newest. */
  set(hi: number, lo: number, keys: BlockKeys, from: number, to: number): void {
    if (to <= from) return;
    const old = this.#map.get(hi, lo);
    if (old !== NONE) this.#drop(old);
    else if (this.#map.size >= this.capacity && this.#oldest !== NONE) {
      this.evictions++;
      this.#drop(this.#oldest);
    }
    let first = NONE;
    let prev = NONE;
    for (let i = from; i < to; i++) {
      const x = this.#r.alloc();
      const a = this.#r.a;
      a[x * R + R_HI] = keys.keys[2 * i] as number;
      a[x * R + R_LO] = keys.keys[2 * i + 1] as number;
      a[x * R + R_NEXT] = NONE;
      if (prev === NONE) first = x;
      else a[prev * R + R_NEXT] = x;
      prev = x;
    }
    const a = this.#r.a;
    a[first * R + R_EHI] = hi;
    a[first * R + R_ELO] = lo;
    a[first * R + R_OLDER] = this.#newest;
    a[first * R + R_NEWER] = NONE;
    if (this.#newest !== NONE) a[this.#newest * R + R_NEWER] = first;
    this.#newest = first;
    if (this.#oldest === NONE) this.#oldest = first;
    this.#map.set(hi, lo, first);
  }

  /** Visits the request keys the engine hash maps to; false when it maps to none. */
  keysOf(hi: number, lo: number, visit: (hi: number, lo: number) => void): boolean {
    const first = this.#map.get(hi, lo);
    if (first === NONE) return false;
    const a = this.#r.a;
    for (let x = first; x !== NONE; x = a[x * R + R_NEXT] as number) visit(a[x * R + R_HI] as number, a[x * R + R_LO] as number);
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

  /** Forgets the engine hash (no pod holds its blocks any more). */
  delete(hi: number, lo: number): void {
    const first = this.#map.get(hi, lo);
    if (first !== NONE) this.#drop(first);
  }

  #drop(first: number): void {
    const a = this.#r.a;
    this.#map.delete(a[first * R + R_EHI] as number, a[first * R + R_ELO] as number);
    const newer = a[first * R + R_NEWER] as number;
    const older = a[first * R + R_OLDER] as number;
    if (newer !== NONE) a[newer * R + R_OLDER] = older;
    else this.#newest = older;
    if (older !== NONE) a[older * R + R_NEWER] = newer;
    else this.#oldest = newer;
    for (let x = first; x !== NONE; ) {
      const next = this.#r.a[x * R + R_NEXT] as number;
      this.#r.release(x);
      x = next;
    }
  }
}
