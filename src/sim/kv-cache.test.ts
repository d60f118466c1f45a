/** Tests for the KV block pool: pinning, prefix hits, LRU eviction order, all-or-nothing allocation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KvHolder } from './kv-cache.js';
import { KvCache } from './kv-cache.js';

function holder(hashes: number[] = []): KvHolder {
  return { blocks: [], hashes, cachedBlocks: 0 };
}

test('admit pins hit blocks, allocates the rest, and refuses (changing nothing) when blocks run out', () => {
  const kv = new KvCache(4, 16);
  const a = holder([1, 2]);
  assert.equal(kv.admit(a, 0, 40), true); // 3 blocks
  kv.commit(a, 40);
  assert.equal(kv.cachedBlockCount, 2, 'only full prompt blocks are cached');
  assert.equal(kv.usage, 0.75);
  const b = holder([1, 2, 3]);
  assert.equal(kv.cachedPrefix(b.hashes, 10), 2);
  assert.equal(kv.admit(b, 2, 64), false, 'two new blocks, one free');
  assert.deepEqual(b.blocks, []);
  assert.equal(kv.admit(b, 2, 48), true, 'shared blocks are already held, so one free block is enough');
  assert.equal(kv.freeBlocks, 0);
  assert.deepEqual(b.blocks.slice(0, 2), a.blocks.slice(0, 2));
  const c = holder();
  assert.equal(kv.admit(c, 0, 1), false);
  assert.deepEqual(c.blocks, []);
  assert.equal(kv.grow(b, 64), false, 'no fifth block');
  kv.release(b);
  kv.release(a);
  assert.equal(kv.usage, 0);
  assert.equal(kv.cachedBlockCount, 2, 'freed blocks stay cached until reused');
});

test('eviction takes the least recently freed block first; a freed sequence\'s last block goes before its first', () => {
  const kv = new KvCache(4, 1);
  const a = holder([10, 11]);
  kv.admit(a, 0, 2);
  kv.commit(a, 2);
  kv.release(a); // free queue: 2, 3, then a's block for 11, then for 10
  const b = holder();
  kv.admit(b, 0, 3); // takes 2, 3 and evicts 11
  assert.equal(kv.cachedPrefix([10, 11], 2), 1);
  kv.grow(b, 4); // evicts 10
  assert.equal(kv.cachedPrefix([10, 11], 2), 0);
  assert.equal(kv.cachedBlockCount, 0);
});

test('a hit on a free cached block revives it, so it is not evicted while held', () => {
  const kv = new KvCache(2, 1);
  const a = holder([7]);
  kv.admit(a, 0, 1);
  kv.commit(a, 1);
  kv.release(a);
  const b = holder([7]);
  assert.equal(kv.admit(b, 1, 2), true); // revives block 7's, takes the other
  assert.equal(kv.freeBlocks, 0);
  assert.equal(kv.admit(holder(), 0, 1), false);
  assert.equal(kv.cachedPrefix([7], 1), 1);
});

test('commit keeps the first block computed for a hash; a duplicate stays uncached', () => {
  const kv = new KvCache(4, 1);
  const a = holder([5]);
  const b = holder([5]);
  kv.admit(a, 0, 1);
  kv.admit(b, 0, 1);
  kv.commit(a, 1);
  kv.commit(b, 1);
  assert.equal(kv.cachedBlockCount, 1);
  kv.release(b);
  kv.release(a);
  kv.admit(holder(), 0, 3); // the two never-used blocks, then b's (uncached) one
  assert.equal(kv.cachedPrefix([5], 1), 1, 'a\'s block, freed last, survives');
});
