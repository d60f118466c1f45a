/** Index ops: what the worker encodes and the request thread applies leaves the index as in-thread ingestion does. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlockIndex } from './block-index.js';
import { TIER_CPU, TIER_GPU } from './device-tiers.js';
import { BlockKeyHasher } from './block-key.js';
import { KvEventIngestor } from './event-ingestor.js';
import { applyIndexOps, IndexOpEncoder } from './index-ops.js';
import type { BlockStoredEvent, KvCacheEvent } from './wire-format.js';

const BS = 4;
const TOKENS = Array.from({ length: 32 }, (_, i) => 500 + i);
const hash = (block: number): bigint => (1n << 63n) + BigInt(block) * 0x1_0000_0001n;

function stored(first: number, n: number, o: Partial<BlockStoredEvent> = {}): BlockStoredEvent {
  return {
    type: 'BlockStored', blockHashes: Array.from({ length: n }, (_, i) => hash(first + i)), parentBlockHash: first === 0 ? null : hash(first - 1),
    tokenIds: TOKENS.slice(first * BS, (first + n) * BS), blockSize: BS, loraId: null, medium: 'GPU', loraName: null,
    extraKeys: null, groupIdx: null, kvCacheSpecKind: null, kvCacheSpecSlidingWindow: null, ...o,
  };
}
const removed = (blocks: number[], medium = 'GPU'): KvCacheEvent => ({ type: 'BlockRemoved', blockHashes: blocks.map(hash), medium, groupIdx: null });
const cleared: KvCacheEvent = { type: 'AllBlocksCleared' };

const cases: { name: string; batches: [pod: 0 | 1, events: KvCacheEvent[]][] }[] = [
  { name: 'a store, chained on', batches: [[0, [stored(0, 3)]], [0, [stored(3, 4)]]] },
  { name: 'removals in the middle, on two pods', batches: [[0, [stored(0, 8)]], [1, [stored(0, 5)]], [0, [removed([2, 3, 4])]], [1, [removed([4])]]] },
  { name: 'an offload to the CPU, then the GPU copy removed', batches: [[0, [stored(0, 6)]], [0, [{ ...stored(0, 6), tokenIds: [], medium: 'CPU' }]], [0, [removed([0, 1, 2, 3, 4, 5])]]] },
  { name: 'a cache reset between stores', batches: [[0, [stored(0, 4)]], [1, [stored(0, 6)]], [0, [cleared, stored(0, 2)]], [1, [removed([5]), cleared]]] },
];

/** Per pod and tier: leading blocks of TOKENS held. */
function held(ix: BlockIndex, h: BlockKeyHasher, pods: readonly number[]): number[] {
  const keys = h.keys(TOKENS, 'm');
  return pods.flatMap((p) => [TIER_GPU, TIER_CPU].map((tier) => {
    let n = 0;
    while (n < keys.count && ix.holds(keys.keys[2 * n]!, keys.keys[2 * n + 1]!, p, tier)) n++;
    return n;
  }));
}

for (const c of cases) {
  test(`encoded and applied ops equal in-thread ingestion: ${c.name}`, () => {
    const h = new BlockKeyHasher({ blockSize: BS, hashSeed: '' });
    const direct = new BlockIndex({ capacity: 1000, podsPerKey: 4 });
    const directPods = [direct.podId('a:1'), direct.podId('b:1')];
    const inThread = new KvEventIngestor(h, direct, { engineCapacity: 100 });
    const applied = new BlockIndex({ capacity: 1000, podsPerKey: 4 });
    const appliedPods = [applied.podId('a:1'), applied.podId('b:1')];
    const ops = new IndexOpEncoder();
    // Worker-side feed ids differ from the index's pod ids: 71 and 72.
    const worker = new KvEventIngestor(new BlockKeyHasher({ blockSize: BS, hashSeed: '' }), ops, { engineCapacity: 100 });
    for (const [pod, events] of c.batches) {
      inThread.apply(directPods[pod]!, 'm', { ts: 0, events, dataParallelRank: null }, () => undefined);
      worker.apply(71 + pod, 'm', { ts: 0, events, dataParallelRank: null }, () => undefined);
    }
    applyIndexOps(ops.take(), applied, (feed) => (feed === 71 || feed === 72 ? appliedPods[feed - 71]! : -1));
    assert.deepEqual(held(applied, h, appliedPods), held(direct, h, directPods));
    assert.equal(applied.size, direct.size);
    assert.equal(applied.holdings, direct.holdings);
  });
}

test('ops of a feed that has gone are skipped; runs of single evictions share one op; take empties the encoder', () => {
  const ops = new IndexOpEncoder();
  let firstWrites = 0;
  const counted = new IndexOpEncoder(() => firstWrites++);
  for (const e of [ops, counted]) {
    e.addKeys({ count: 2, keys: new Int32Array([1, 2, 3, 4]) }, 5, TIER_GPU);
    e.evict(1, 2, 5, TIER_GPU);
    e.evict(3, 4, 5, TIER_GPU);
    e.addKeys({ count: 1, keys: new Int32Array([9, 9]) }, 6, TIER_GPU);
  }
  // [op, pod, tier, 2, k, k, k, k] + one eviction run [op, pod, tier, 2, k, k, k, k] + [op, pod, tier, 1, k, k].
  assert.equal(ops.length, 8 + 8 + 6);
  assert.equal(firstWrites, 1);
  const ix = new BlockIndex({ capacity: 10, podsPerKey: 2 });
  const pod = ix.podId('a:1');
  assert.equal(applyIndexOps(ops.take(), ix, (feed) => (feed === 6 ? pod : -1)), 1, 'only feed 6 is still known');
  assert.equal(ix.size, 1);
  assert.ok(ix.holds(9, 9, pod));
  assert.equal(ops.length, 0);
  counted.take();
  counted.clearPod(1);
  assert.equal(firstWrites, 2, 'a write after a take schedules another flush');
});
