import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KvEventBatch } from '../../kvevents/wire-format.js';
import { KvStepBatcher } from './step-batcher.js';

function batcher(format: 'map' | 'legacy'): { batches: KvEventBatch[]; b: KvStepBatcher } {
  const batches: KvEventBatch[] = [];
  return { batches, b: new KvStepBatcher({ publish: (batch) => batches.push(batch) }, 2, format, () => 1_500) };
}

test('one batch per step, events in order; an empty step sends nothing', () => {
  const { batches, b } = batcher('map');
  b.endStep();
  assert.equal(batches.length, 0);
  b.stored([1n, 2n], null, [5, 6, 7, 8], null);
  b.removed(9n);
  b.endStep();
  b.cleared();
  b.endStep();
  assert.deepEqual(batches, [
    {
      ts: 1.5,
      dataParallelRank: 0,
      events: [
        {
          type: 'BlockStored', blockHashes: [1n, 2n], parentBlockHash: null, tokenIds: [5, 6, 7, 8], blockSize: 2, loraId: null, medium: 'GPU',
          loraName: null, extraKeys: [null, null], groupIdx: 0, kvCacheSpecKind: 'full_attention', kvCacheSpecSlidingWindow: null,
        },
        { type: 'BlockRemoved', blockHashes: [9n], medium: 'GPU', groupIdx: 0 },
      ],
    },
    { ts: 1.5, dataParallelRank: 0, events: [{ type: 'AllBlocksCleared' }] },
  ]);
});

test('LoRA blocks carry the adapter name and a stable id; legacy leaves out the fields vLLM added with the map form', () => {
  const { batches, b } = batcher('legacy');
  b.stored([1n], 4n, [5, 6], 'sql');
  b.stored([2n], null, [7, 8], 'chat');
  b.stored([3n], 1n, [9, 9], 'sql');
  b.removed(1n);
  b.endStep();
  const events = batches[0]!.events;
  assert.deepEqual(events.map((e) => (e.type === 'BlockStored' ? [e.loraName, e.loraId, e.extraKeys, e.groupIdx, e.kvCacheSpecKind] : e.type)), [
    ['sql', 1, null, null, null],
    ['chat', 2, null, null, null],
    ['sql', 1, null, null, null],
    'BlockRemoved',
  ]);
  assert.deepEqual(events[3], { type: 'BlockRemoved', blockHashes: [1n], medium: 'GPU', groupIdx: null });
  const map = batcher('map');
  map.b.stored([1n, 2n], null, [1, 2, 3, 4], 'sql');
  map.b.endStep();
  const stored = map.batches[0]!.events[0]!;
  assert.ok(stored.type === 'BlockStored');
  assert.deepEqual(stored.extraKeys, [['sql'], ['sql']]);
});
