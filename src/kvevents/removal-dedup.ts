/**
 * Reference counts of stored engine hashes per pod, device tier and cache group (llm-d's `eventDedupFilter`), so a
 * `BlockRemoved` evicts a block only once no other store of the same hash is outstanding. vLLM announces one hash
 * more than once: its block pool may cache two blocks with the same hash, and the OffloadingConnector in chunk mode
 * lists a shared block in two overlapping chunks; each copy is removed on its own, and the first removal must not
 * evict a block the pod still holds. Counts follow the wire, not the index: a removal of a hash never counted passes
 * through. At most `capacity` hashes are counted over every pod; past it new hashes go uncounted, and their removals
 * pass through, as without the filter.
 */
import { IntPairMap } from '../collections/int-pair-map.js';

export class RemovalDedup {
  readonly capacity: number;
  /** Per pod, per `tier:group`: engine hash (hi, lo) -> outstanding stores. */
  readonly #pods = new Map<number, Map<string, IntPairMap>>();
  #size = 0;

  constructor(capacity: number) {
    this.capacity = Math.max(1, Math.floor(capacity));
  }

  /** Hashes counted, over every pod. */
  get size(): number {
    return this.#size;
  }

  /** The counts of one pod's tier and group; made on first use when `make`. */
  scope(podId: number, tier: number, group: number | null, make: boolean): IntPairMap | undefined {
    let pod = this.#pods.get(podId);
    if (!pod) {
      if (!make) return undefined;
      this.#pods.set(podId, (pod = new Map()));
    }
    const key = `${tier}:${group ?? ''}`;
    let counts = pod.get(key);
    if (!counts && make) pod.set(key, (counts = new IntPairMap(64)));
    return counts;
  }

  /** One more store of the hash (hi, lo) in `counts` (a scope). */
  stored(counts: IntPairMap, hi: number, lo: number): void {
    const n = counts.get(hi, lo);
    if (n >= 0) counts.set(hi, lo, n + 1);
    else if (this.#size < this.capacity) {
      counts.set(hi, lo, 1);
      this.#size++;
    }
  }

  /** One store of (hi, lo) removed: true when none is left (or none was counted) and the block should go. */
  removed(counts: IntPairMap | undefined, hi: number, lo: number): boolean {
    const n = counts?.get(hi, lo) ?? -1;
    if (n < 0) return true;
    if (n > 1) {
      counts!.set(hi, lo, n - 1);
      return false;
    }
    counts!.delete(hi, lo);
    this.#size--;
    return true;
  }

  /** Drops the scope once nothing in it is counted (its table, grown under a burst, is freed). */
  prune(podId: number, tier: number, group: number | null): void {
    const pod = this.#pods.get(podId);
    const key = `${tier}:${group ?? ''}`;
    if (pod?.get(key)?.size !== 0) return;
    pod.delete(key);
    if (pod.size === 0) this.#pods.delete(podId);
  }

  /** Forgets the pod's counts (AllBlocksCleared, a broken stream, the pod gone). */
  clearPod(podId: number): void {
    const pod = this.#pods.get(podId);
    if (!pod) return;
    for (const counts of pod.values()) this.#size -= counts.size;
    this.#pods.delete(podId);
  }
}
