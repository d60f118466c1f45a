import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlockIndex } from './block-index.js';
import { BlockKeyHasher } from './block-key.js';
import { DEDUP_KEYS, KvEventIngestor, type IngestProblem } from './event-ingestor.js';
import type { BlockStoredEvent, KvCacheEvent } from './wire-format.js';

const BS = 4;
const TOKENS = Array.from({ length: 24 }, (_, i) => 100 + i);

/** A BlockStored of `n` blocks starting at block `first` of TOKENS, engine hashes 1000 + block (big values too). */
function stored(first: number, n: number, o: Partial<BlockStoredEvent> = {}): BlockStoredEvent {
  const hashes = Array.from({ length: n }, (_, i) => engineHash(first + i));
  return {
    type: 'BlockStored', blockHashes: hashes, parentBlockHash: first === 0 ? null : engineHash(first - 1),
    tokenIds: TOKENS.slice(first * BS, (first + n) * BS), blockSize: BS, loraId: null, medium: 'GPU', loraName: null,
    extraKeys: null, groupIdx: null, kvCacheSpecKind: null, kvCacheSpecSlidingWindow: null, ...o,
  };
}

function engineHash(block: number): bigint {
  return (1n << 63n) + BigInt(block) * 0x1_0000_0001n;
}

function setup(blockSize = BS): { ix: BlockIndex; ing: KvEventIngestor; h: BlockKeyHasher; pod: number; problems: IngestProblem[]; apply: (...e: KvCacheEvent[]) => void; matched: (model?: string) => number } {
  const h = new BlockKeyHasher({ blockSize, hashSeed: '' });
  const ix = new BlockIndex({ capacity: 1000, podsPerKey: 10 });
  const ing = new KvEventIngestor(h, ix, { engineCapacity: 100 });
  const pod = ix.podId('10.0.0.1:8000');
  const problems: IngestProblem[] = [];
  return {
    ix, ing, h, pod, problems,
    apply: (...events) => ing.apply(pod, 'm', { ts: 0, events, dataParallelRank: null }, (p) => problems.push(p)),
    matched: (model = 'm') => {
      const r = ix.lookup(h.keys(TOKENS, model));
      return r.size === 0 ? 0 : r.matched[0]!;
    },
  };
}

describe('KvEventIngestor', () => {
  it('keys stored blocks as the request side does, chained across events by the parent hash', () => {
    const t = setup();
    t.apply(stored(0, 2));
    assert.equal(t.matched(), 2);
    t.apply(stored(2, 3));
    assert.equal(t.matched(), 5);
    assert.deepEqual(t.problems, []);
  });

  it('evicts through the engine hash -> key map on BlockRemoved', () => {
    const t = setup();
    t.apply(stored(0, 4));
    t.apply({ type: 'BlockRemoved', blockHashes: [engineHash(2)], medium: 'GPU', groupIdx: null });
    assert.equal(t.matched(), 2);
    // No pod holds block 2 any more: its engine hash is unmapped too.
    assert.equal(t.ing.engine.size, 3);
  });

  it('a hash stored twice survives its first removal: it goes with the last (llm-d\'s dedup filter), and both are counted', () => {
    const t = setup();
    const removed = (...blocks: number[]): KvCacheEvent => ({ type: 'BlockRemoved', blockHashes: blocks.map(engineHash), medium: 'GPU', groupIdx: null });
    // vLLM announces a hash again when a second block with the same hash is cached (or two offloaded chunks overlap).
    t.apply(stored(0, 4), stored(2, 2));
    t.apply(removed(2, 3));
    assert.equal(t.matched(), 4, 'blocks 2 and 3 are still held: another copy of each is outstanding');
    assert.deepEqual([t.ing.counts.get(DEDUP_KEYS.suppressed), t.ing.counts.get(DEDUP_KEYS.forwarded)], [2, undefined]);
    t.apply(removed(3));
    assert.equal(t.matched(), 3);
    // A removal in another tier, or of a hash never counted, passes through.
    t.apply({ type: 'BlockRemoved', blockHashes: [engineHash(2)], medium: 'CPU', groupIdx: null }, removed(9));
    assert.equal(t.matched(), 3);
    t.apply(removed(2));
    assert.equal(t.matched(), 2);
    assert.deepEqual([t.ing.counts.get(DEDUP_KEYS.suppressed), t.ing.counts.get(DEDUP_KEYS.forwarded)], [2, 4]);
    // Counts go with the pod's blocks: after a clear, a single store is removed by a single removal.
    t.apply(stored(0, 2), { type: 'AllBlocksCleared' }, stored(0, 2), removed(1));
    assert.equal(t.matched(), 1);
    t.apply(removed(0), removed(0));
    assert.equal(t.ing.dedup.size, 0, 'nothing left counted');
  });

  it('drops everything of the pod on AllBlocksCleared', () => {
    const t = setup();
    t.apply(stored(0, 4), { type: 'AllBlocksCleared' });
    assert.equal(t.matched(), 0);
    assert.equal(t.ix.heldBy(t.pod), 0);
  });

  it('skips a store whose parent it never saw (joined late, or lost events)', () => {
    const t = setup();
    t.apply(stored(2, 2));
    assert.deepEqual(t.problems, ['unknown-parent']);
    assert.equal(t.ix.size, 0);
  });

  it('skips a store whose tokens do not fill its blocks', () => {
    const t = setup();
    t.apply(stored(0, 2, { tokenIds: TOKENS.slice(0, 7) }));
    assert.deepEqual(t.problems, ['token-count']);
  });

  it('roots an adapter\'s blocks in its name, not the base model', () => {
    const t = setup();
    t.apply(stored(0, 3, { loraName: 'sql-lora', extraKeys: [['sql-lora'], ['sql-lora'], ['sql-lora']] }));
    assert.equal(t.matched('m'), 0);
    assert.equal(t.matched('sql-lora'), 3);
  });

  it('maps an engine block to several request blocks when the engine\'s block is bigger (1:k)', () => {
    const t = setup(2); // request blocks of 2 tokens, engine blocks of 4
    t.apply(stored(0, 3));
    const keys = t.h.keys(TOKENS, 'm');
    assert.equal(t.ix.lookup(keys).matched[0], 6);
    t.apply({ type: 'BlockRemoved', blockHashes: [engineHash(1)], medium: null, groupIdx: null });
    assert.equal(t.ix.lookup(keys).matched[0], 2);
  });

  it('tracks an offload to CPU (no tokens) and a GPU eviction separately', () => {
    const t = setup();
    t.apply(stored(0, 2));
    t.apply(stored(0, 2, { tokenIds: [], medium: 'CPU', parentBlockHash: null }));
    t.apply({ type: 'BlockRemoved', blockHashes: [engineHash(0), engineHash(1)], medium: 'GPU', groupIdx: null });
    const r = t.ix.lookup(t.h.keys(TOKENS, 'm'));
    assert.equal(r.matched[0], 2);
    assert.ok(Math.abs(r.scores[0]! - 1.6) < 1e-9);
  });

  it('indexes only prefix-chaining groups of a hybrid allocator', () => {
    const t = setup();
    t.apply(stored(0, 2, { groupIdx: 1, kvCacheSpecKind: 'sliding_window' }));
    assert.deepEqual(t.problems, ['unsupported-cache-kind']);
    t.apply(stored(0, 2, { groupIdx: 0, kvCacheSpecKind: 'full_attention' }));
    assert.equal(t.matched(), 2);
  });

  it('bounds the engine-hash map, oldest out first, whatever the pods send', () => {
    const t = setup();
    const ix = new BlockIndex({ capacity: 1000, podsPerKey: 10 });
    const ing = new KvEventIngestor(t.h, ix, { engineCapacity: 3 });
    const pod = ix.podId('p');
    ing.apply(pod, 'm', { ts: 0, events: [stored(0, 5)], dataParallelRank: null }, () => undefined);
    assert.equal(ing.engine.size, 3);
    assert.equal(ing.engine.evictions, 2);
    assert.equal(ix.heldBy(pod), 5);
    // The mapping of block 0 is gone: its removal finds nothing (the index's own bound ages it out).
    ing.apply(pod, 'm', { ts: 0, events: [{ type: 'BlockRemoved', blockHashes: [engineHash(0)], medium: null, groupIdx: null }], dataParallelRank: null }, () => undefined);
    assert.equal(ix.heldBy(pod), 5);
  });

  it('shares engine hashes across pods: one pod\'s eviction keeps the mapping while another holds the block', () => {
    const t = setup();
    const other = t.ix.podId('10.0.0.2:8000');
    t.apply(stored(0, 2));
    t.ing.apply(other, 'm', { ts: 0, events: [stored(0, 2)], dataParallelRank: null }, () => undefined);
    t.apply({ type: 'BlockRemoved', blockHashes: [engineHash(1)], medium: 'GPU', groupIdx: null });
    assert.equal(t.ing.engine.size, 2);
    t.ing.apply(other, 'm', { ts: 0, events: [{ type: 'BlockRemoved', blockHashes: [engineHash(1)], medium: 'GPU', groupIdx: null }], dataParallelRank: null }, () => undefined);
    assert.equal(t.ing.engine.size, 1);
  });
});
