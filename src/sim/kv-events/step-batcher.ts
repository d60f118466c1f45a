/** Turns the KV cache's changes into vLLM's KV events, one KVEventBatch per engine step (what vLLM's scheduler publishes). */
import type { KvCacheEvent, KvEventBatch, KvEventFormat } from '../../kvevents/wire-format.js';
import type { KvStepListener } from '../engine.js';

/** vLLM's MEDIUM_GPU: the simulated cache is the GPU's. */
const MEDIUM = 'GPU';

/** Where finished batches go (the ZMQ publisher, or a test's array). */
export interface BatchSink {
  publish(batch: KvEventBatch): void;
}

/**
 * Events are kept in the order the cache reports them and sent at `endStep` when there are any, stamped
 * with the wall clock in seconds and data-parallel rank 0. `format: 'legacy'` leaves out the fields vLLM
 * added with the map encoding (`extra_keys`, `group_idx`, `kv_cache_spec_kind`), as the vLLM versions that
 * sent tagged arrays did; `map` sends them as vLLM 0.26 does.
 */
export class KvStepBatcher implements KvStepListener {
  readonly #sink: BatchSink;
  readonly #blockSize: number;
  readonly #legacy: boolean;
  readonly #now: () => number;
  /** vLLM's lora_int_id: adapters numbered from 1 in the order this engine first used them. */
  readonly #loraIds = new Map<string, number>();
  #events: KvCacheEvent[] = [];

  constructor(sink: BatchSink, blockSize: number, format: KvEventFormat, now: () => number = Date.now) {
    this.#sink = sink;
    this.#blockSize = blockSize;
    this.#legacy = format === 'legacy';
    this.#now = now;
  }

  stored(hashes: readonly bigint[], parent: bigint | null, tokenIds: readonly number[], lora: string | null, salt: string | null = null): void {
    const map = !this.#legacy;
    this.#events.push({
      type: 'BlockStored',
      blockHashes: hashes,
      parentBlockHash: parent,
      tokenIds,
      blockSize: this.#blockSize,
      loraId: lora === null ? null : this.#loraId(lora),
      medium: MEDIUM,
      loraName: lora,
      // vLLM's extra keys per block: what the engine hash covered besides the tokens (the LoRA name; block 0's
      // cache_salt after it), or none.
      extraKeys: map ? hashes.map((_, i) => extraKeys(lora, i === 0 ? salt : null)) : null,
      groupIdx: map ? 0 : null,
      kvCacheSpecKind: map ? 'full_attention' : null,
      kvCacheSpecSlidingWindow: null,
    });
  }

  removed(hash: bigint): void {
    // vLLM's block pool sends one BlockRemoved per evicted block.
    this.#events.push({ type: 'BlockRemoved', blockHashes: [hash], medium: MEDIUM, groupIdx: this.#legacy ? null : 0 });
  }

  cleared(): void {
    this.#events.push({ type: 'AllBlocksCleared' });
  }

  endStep(): void {
    if (this.#events.length === 0) return;
    const events = this.#events;
    this.#events = [];
    this.#sink.publish({ ts: this.#now() / 1000, events, dataParallelRank: 0 });
  }

  #loraId(name: string): number {
    let id = this.#loraIds.get(name);
    if (id === undefined) this.#loraIds.set(name, (id = this.#loraIds.size + 1));
    return id;
  }
}

function extraKeys(lora: string | null, salt: string | null): string[] | null {
  if (lora === null && salt === null) return null;
  return lora === null ? [salt!] : salt === null ? [lora] : [lora, salt];
}
