/** Tests for the KV block pool: pinning, prefix hits, LRU eviction order, all-or-nothing allocation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KvCacheListener, KvHolder } from './kv-cache.js';
import { KvCache } from './kv-cache.js';

function holder(hashes: bigint[] = [], tokenIds: number[] = [], lora: string | null = null): KvHolder {
  return { blocks: [], hashes, tokenIds, lora, cachedBlocks: 0 };
}

test('admit pins hit blocks, allocates the rest, and refuses (changing nothing) when blocks run out', () => {
  const kv = new KvCache(4, 16);
  const a = holder([1n, 2n]);
  assert.equal(kv.admit(a, 0, 40), true); // 3 blocks
  kv.commit(a, 40);
  assert.equal(kv.cachedBlockCount, 2, 'only full prompt blocks are cached');
  assert.equal(kv.usage, 0.75);
  const b = holder([1n, 2n, 3n]);
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
  const a = holder([10n, 11n]);
  kv.admit(a, 0, 2);
  kv.commit(a, 2);
  kv.release(a); // free queue: 2, 3, then a's block for 11, then for 10
  const b = holder();
  kv.admit(b, 0, 3); // takes 2, 3 and evicts 11
  assert.equal(kv.cachedPrefix([10n, 11n], 2), 1);
  kv.grow(b, 4); // evicts 10
  assert.equal(kv.cachedPrefix([10n, 11n], 2), 0);
  assert.equal(kv.cachedBlockCount, 0);
});

test('a hit on a free cached block revives it, so it is not evicted while held', () => {
  const kv = new KvCache(2, 1);
  const a = holder([7n]);
  kv.admit(a, 0, 1);
  kv.commit(a, 1);
  kv.release(a);
  const b = holder([7n]);
  assert.equal(kv.admit(b, 1, 2), true); // revives block 7's, takes the other
  assert.equal(kv.freeBlocks, 0);
  assert.equal(kv.admit(holder(), 0, 1), false);
  assert.equal(kv.cachedPrefix([7n], 1), 1);
});

test('commit keeps the first block computed for a hash; a duplicate stays uncached', () => {
  const kv = new KvCache(4, 1);
  const a = holder([5n]);
  const b = holder([5n]);
  kv.admit(a, 0, 1);
  kv.admit(b, 0, 1);
  kv.commit(a, 1);
  kv.commit(b, 1);
  assert.equal(kv.cachedBlockCount, 1);
  kv.release(b);
  kv.release(a);
  kv.admit(holder(), 0, 3); // the two never-used blocks, then b's (uncached) one
  assert.equal(kv.cachedPrefix([5n], 1), 1, 'a\'s block, freed last, survives');
});

/** A listener that writes what it hears as short strings. */
function recording(): { heard: string[]; listener: KvCacheListener } {
  const heard: string[] = [];
  return {
    heard,
    listener: {
      stored: (hashes, parent, tokenIds, lora) => heard.push(`stored ${hashes.join(',')} parent ${parent} tokens ${tokenIds.join(',')} lora ${lora}`),
      removed: (hash) => heard.push(`removed ${hash}`),
      cleared: () => heard.push('cleared'),
    },
  };
}

test('the listener hears each newly cached run with its parent and tokens, each eviction, and a reset', () => {
  const { heard, listener } = recording();
  const kv = new KvCache(4, 2, listener);
  const a = holder([1n, 2n, 3n], [10, 11, 20, 21, 30, 31], 'ad');
  kv.admit(a, 0, 6);
  kv.commit(a, 3); // one full block computed
  kv.commit(a, 6);
  assert.deepEqual(heard.splice(0), ['stored 1 parent null tokens 10,11 lora ad', 'stored 2,3 parent 1 tokens 20,21,30,31 lora ad']);
  const b = holder([1n, 2n, 9n], [10, 11, 20, 21, 90, 91], 'ad');
  kv.admit(b, 2, 6); // hits 1 and 2, one new block
  kv.commit(b, 6);
  assert.deepEqual(heard.splice(0), ['stored 9 parent 2 tokens 90,91 lora ad']);
  assert.equal(kv.reset(), false, 'blocks are held');
  assert.equal(heard.length, 0);
  kv.release(b);
  kv.release(a);
  const c = holder();
  kv.admit(c, 0, 8); // all four blocks, evicted in the order they were freed: b's last, then a's from the end
  assert.deepEqual(heard.splice(0), ['removed 9', 'removed 3', 'removed 2', 'removed 1']);
  kv.release(c);
  assert.equal(kv.reset(), true);
  assert.deepEqual(heard, ['cleared']);
  assert.equal(kv.cachedBlockCount, 0);
  assert.equal(kv.cachedPrefix([1n], 1), 0);
});

test('a block another sequence cached first splits the run: the listener never hears a hash twice', () => {
  const { heard, listener } = recording();
  const kv = new KvCache(8, 1, listener);
  const first = holder([2n], [2]);
  const second = holder([1n, 2n, 3n], [1, 2, 3]);
  kv.admit(first, 0, 1);
  kv.admit(second, 0, 3);
  kv.commit(first, 1);
  kv.commit(second, 3);
  assert.deepEqual(heard, ['stored 2 parent null tokens 2 lora null', 'stored 1 parent null tokens 1 lora null', 'stored 3 parent 2 tokens 3 lora null']);
});

test('decode blocks: hashes appended while the holder runs are stored one by one as computed tokens fill them, then evicted once', () => {
  const { heard, listener } = recording();
  const kv = new KvCache(4, 2, listener);
  // A 3-token prompt: one full block; the sequence then decodes, growing its hashes and ids at the end.
  const hashes = [1n];
  const tokenIds = [10, 11, 12];
  const a: KvHolder = { blocks: [], hashes, tokenIds, lora: null, cachedBlocks: 0 };
  kv.admit(a, 0, 3);
  kv.commit(a, 3);
  tokenIds.push(13); // the first output token fills block 1 (hashed when it is sampled, computed a step later)
  hashes.push(2n);
  assert.equal(kv.grow(a, 4), true);
  kv.commit(a, 3);
  assert.deepEqual(heard.splice(0), ['stored 1 parent null tokens 10,11 lora null'], 'not until its last token is computed');
  kv.commit(a, 4);
  assert.equal(kv.grow(a, 5), true);
  kv.commit(a, 5);
  assert.deepEqual(heard.splice(0), ['stored 2 parent 1 tokens 12,13 lora null'], 'a partial block is never stored');
  kv.release(a);
  const b = holder();
  kv.admit(b, 0, 8);
  assert.deepEqual(heard.filter((e) => e === 'removed 2'), ['removed 2']);
});
