/**
 * Applies decoded KV-event batches to the block index, as llm-d's `kvevents.Pool` does: `BlockStored` recomputes
 * request keys from the event's tokens (chained on the parent's request key) and maps each engine hash to them;
 * `BlockRemoved` evicts through that map; `AllBlocksCleared` drops everything of the pod. Pure computation over the
 * index, no sockets and no clock. On the request thread it writes to the block index; in the ingestion worker it
 * writes to an IndexOpEncoder (index-ops.ts), whose ops the request thread then applies.
 */
import { tierOf } from './device-tiers.js';
import type { BlockKey, BlockKeyHasher } from './block-key.js';
import { EngineKeyMap, hashHalves } from './engine-key-map.js';
import type { IndexWriter } from './index-ops.js';
import { RemovalDedup } from './removal-dedup.js';
import type { BlockRemovedEvent, BlockStoredEvent, KvEventBatch } from './wire-format.js';

/** What ingestion skipped and why: bounded, metric-label-safe names. */
export type IngestProblem =
  | 'unknown-parent' // a BlockStored chains on a block this gateway never saw stored (it joined later, or lost events)
  | 'token-count' // a BlockStored whose token_ids are not block_hashes x block_size
  | 'no-model' // the topic names no model, so the blocks cannot be keyed
  | 'unsupported-cache-kind'; // a hybrid-allocator group that is not full attention (llm-d skips these too)

/** What each skipped store means, for the one log line per pod (the metric carries only the name). */
export const INGEST_PROBLEM_DETAIL: Readonly<Record<IngestProblem, string>> = {
  'unknown-parent': 'a BlockStored chaining on a block this gateway never saw stored (it joined the stream later, or lost events) was skipped, as its children will be',
  'token-count': 'a BlockStored whose token_ids are not len(block_hashes) x block_size was skipped',
  'no-model': 'a BlockStored was skipped: no model to key its blocks by (vLLM\'s topic should be kv@<pod ip:port>@<model>, and the pod\'s GET /v1/models lists no single base model)',
  'unsupported-cache-kind': 'a BlockStored of a hybrid-allocator group whose cache kind is not full or MLA attention was skipped (its blocks do not form a prefix chain)',
};

/**
 * llm-d's event counters, keyed `what \n cache_kind \n reason`. Skipped events
 * (`llm_d_epp_kv_cache_events_{stores,removals}_skipped_total{cache_kind, reason}`): `store` with
 * `unsupported_cache_kind`, `invalid_block_size` or `non_dense_block_span`; `removal` with `unsupported_cache_kind`
 * or `unknown_group`. Removed hashes past the dedup filter
 * (`llm_d_epp_kv_cache_events_dedup_removed_hashes_{suppressed,forwarded}_total`): `dedup` with `suppressed` or
 * `forwarded` (no cache kind).
 */
export type EventCounts = Map<string, number>;

/** The counter key of removed hashes the dedup filter suppressed or forwarded. */
export const DEDUP_KEYS = { suppressed: 'dedup\n\nsuppressed', forwarded: 'dedup\n\nforwarded' } as const;

export function skipKey(what: 'store' | 'removal', cacheKind: string | null, reason: string): string {
  return `${what}\n${cacheKind === null || cacheKind === '' ? 'unknown' : cacheKind}\n${reason}`;
}

/** KV-cache spec kinds whose blocks form a prefix chain (llm-d's isPrefixIndexableSpecKind). */
const PREFIX_KINDS = new Set(['full_attention', 'mla_attention', 'sink_full_attention']);

export interface IngestorOptions {
  /** Engine hashes mapped at most, over every pod (llm-d bounds its map by the index's `size` too). */
  engineCapacity: number;
}

export class KvEventIngestor {
  readonly hasher: BlockKeyHasher;
  readonly index: IndexWriter;
  /** Engine hash -> request keys, for every pod. */
  readonly engine: EngineKeyMap;
  /** Per pod: the cache kind of each hybrid-allocator group, learned from the stores that name it. */
  readonly #groups = new Map<number, Map<number, string>>();
  /** Stores outstanding per pod, tier and group: a removal evicts once none is left. */
  readonly dedup: RemovalDedup;
  /** Events skipped and removals deduplicated since the start, as llm-d counts them (cumulative; the worker posts the increments). */
  readonly counts: EventCounts = new Map();

  constructor(hasher: BlockKeyHasher, index: IndexWriter, opts: IngestorOptions) {
    this.hasher = hasher;
    this.index = index;
    this.engine = new EngineKeyMap(opts.engineCapacity);
    this.dedup = new RemovalDedup(opts.engineCapacity);
  }

  /**
   * Applies one batch from the pod `podId` of the index; `model` is the topic's model (the LoRA name, when a
   * store has one, roots its keys instead). Calls `problem` for what it skipped; never throws on event content.
   */
  apply(podId: number, model: string | null, batch: KvEventBatch, problem: (p: IngestProblem) => void): void {
    for (const e of batch.events) {
      if (e.type === 'BlockStored') this.#stored(podId, model, e, problem);
      else if (e.type === 'BlockRemoved') this.#removed(podId, e);
      else this.clearPod(podId);
    }
  }

  /**
   * Forgets everything about the pod's blocks (AllBlocksCleared, a broken stream, a publisher restart). Engine
   * hashes stay mapped: the map is the same for every pod, and stale entries age out of its LRU.
   */
  clearPod(podId: number): void {
    this.index.clearPod(podId);
    this.dedup.clearPod(podId);
    this.#groups.delete(podId);
  }

  #stored(podId: number, model: string | null, e: BlockStoredEvent, problem: (p: IngestProblem) => void): void {
    if (!this.#indexable(podId, e.groupIdx, e.kvCacheSpecKind)) {
      this.#skip('store', this.#kindOf(podId, e.groupIdx, e.kvCacheSpecKind), 'unsupported_cache_kind');
      return problem('unsupported-cache-kind');
    }
    const tier = tierOf(e.medium);
    const engine = this.engine;
    const n = e.blockHashes.length;
    if (e.tokenIds.length === 0) {
      // An offload (a medium such as CPU, no tokens): the blocks already mapped gain the tier.
      let counts;
      for (const h of e.blockHashes) {
        const [hi, lo] = hashHalves(h);
        if (engine.keysOf(hi, lo, (khi, klo) => this.index.add(khi, klo, podId, tier))) this.dedup.stored((counts ??= this.dedup.scope(podId, tier, e.groupIdx, true)!), hi, lo);
      }
      return;
    }
    if (e.blockSize < 1 || e.tokenIds.length !== n * e.blockSize) {
      this.#skip('store', this.#kindOf(podId, e.groupIdx, e.kvCacheSpecKind), e.blockSize < 1 ? 'invalid_block_size' : 'non_dense_block_span');
      return problem('token-count');
    }
    // Blocks of an adapter are keyed by its name, as the request side keys an adapter's requests.
    const keyModel = e.loraName !== null && e.loraName !== '' ? e.loraName : model;
    if (keyModel === null || keyModel === '') return problem('no-model');
    let parent: BlockKey | null = null;
    // llm-d reads a zero parent as none.
    if (e.parentBlockHash !== null && e.parentBlockHash !== 0n) {
      const [phi, plo] = hashHalves(e.parentBlockHash);
      parent = engine.lastKey(phi, plo);
      if (parent === null) return problem('unknown-parent');
    }
    const cbs = this.hasher.blockSize;
    const keys = this.hasher.keys(e.tokenIds, keyModel, parent, extrasPerBlock(e, Math.floor(e.tokenIds.length / cbs)));
    if (keys.count === 0) return;
    const counts = this.dedup.scope(podId, tier, e.groupIdx, true)!;
    // Engine block i maps to the request blocks that overlap its tokens: 1:1 when the block sizes agree, 1:k or
    // k:1 when one is a multiple of the other (llm-d's engineToRequestMapping).
    for (let i = 0; i < n; i++) {
      const from = Math.floor((i * e.blockSize) / cbs);
      const to = Math.min(keys.count, Math.floor(((i + 1) * e.blockSize - 1) / cbs) + 1);
      if (from >= to) continue;
      const [hi, lo] = hashHalves(e.blockHashes[i]!);
      engine.set(hi, lo, keys, from, to);
      this.dedup.stored(counts, hi, lo);
    }
    this.index.addKeys(keys, podId, tier);
  }

  #removed(podId: number, e: BlockRemovedEvent): void {
    if (!this.#indexable(podId, e.groupIdx, null)) {
      const kind = this.#kindOf(podId, e.groupIdx, null);
      this.#skip('removal', kind, kind === null ? 'unknown_group' : 'unsupported_cache_kind');
      return;
    }
    const tier = tierOf(e.medium);
    const index = this.index;
    const counts = this.dedup.scope(podId, tier, e.groupIdx, false);
    let suppressed = 0;
    for (const h of e.blockHashes) {
      const [hi, lo] = hashHalves(h);
      // Another store of this hash is outstanding on the pod: the block is still there.
      if (!this.dedup.removed(counts, hi, lo)) {
        suppressed++;
        continue;
      }
      let held = false;
      const known = this.engine.keysOf(hi, lo, (khi, klo) => {
        index.evict(khi, klo, podId, tier);
        if (!held && index.hasKey(khi, klo)) held = true;
      });
      // No pod holds these blocks any more: the mapping goes (llm-d drops it then too).
      if (known && !held) this.engine.delete(hi, lo);
    }
    if (counts) this.dedup.prune(podId, tier, e.groupIdx);
    this.#count(DEDUP_KEYS.suppressed, suppressed);
    this.#count(DEDUP_KEYS.forwarded, e.blockHashes.length - suppressed);
  }

  #count(key: string, n: number): void {
    if (n > 0) this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  /** The cache kind of the event's group: given, or learned from an earlier store; null when neither. */
  #kindOf(podId: number, group: number | null, kind: string | null): string | null {
    return kind ?? (group === null ? null : (this.#groups.get(podId)?.get(group) ?? null));
  }

  #skip(what: 'store' | 'removal', kind: string | null, reason: string): void {
    this.#count(skipKey(what, kind, reason), 1);
  }

  /** No group (a plain vLLM) is indexable; a group is when its cache kind, given or learned, chains prefixes. */
  #indexable(podId: number, group: number | null, kind: string | null): boolean {
    if (group === null) return true;
    let groups = this.#groups.get(podId);
    if (kind !== null) {
      if (!groups) this.#groups.set(podId, (groups = new Map()));
      groups.set(group, kind);
    }
    const k = kind ?? groups?.get(group);
    return k !== undefined && PREFIX_KINDS.has(k);
  }
}

/**
 * The event's `extra_keys` as llm-d's ParseRawExtraKeys reads them (a string, or a tuple whose first item is a
 * string, is a hash), re-cut to `canonical` request blocks. A string equal to the store's LoRA name is left out:
 * vLLM lists the adapter in every block's extra keys, and the adapter already roots the chain (as on the request side).
 */
function extrasPerBlock(e: BlockStoredEvent, canonical: number): (string[] | null)[] | undefined {
  const raw = e.extraKeys;
  if (raw === null || canonical === 0) return undefined;
  let any = false;
  const perEngine = raw.map((entries) => {
    if (entries === null) return null;
    const hashes: string[] = [];
    for (const v of entries) {
      const s = typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined;
      if (s !== undefined && s !== e.loraName) hashes.push(s);
    }
    if (hashes.length === 0) return null;
    any = true;
    return hashes;
  });
  if (!any) return undefined;
  if (perEngine.length === canonical) return perEngine;
  const out: (string[] | null)[] = new Array<string[] | null>(canonical).fill(null);
  if (perEngine.length < canonical) {
    for (let j = 0; j < canonical; j++) out[j] = perEngine[Math.floor((j * perEngine.length) / canonical)] ?? null;
  } else {
    perEngine.forEach((h, i) => {
      if (!h) return;
      const j = Math.floor((i * canonical) / perEngine.length);
      out[j] = [...(out[j] ?? []), ...h];
    });
  }
  return out;
}
