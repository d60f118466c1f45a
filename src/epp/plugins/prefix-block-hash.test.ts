/** PromptHasher: chained block hashes over UTF-8 bytes; partial tail ignored; truncated to maxBlocks. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PromptHasher, type BlockHashes } from './prefix-block-hash.js';

const h = new PromptHasher();
const pairs = (x: BlockHashes) => Array.from(x.keys, (k, i) => `${k}/${x.checks[i]}`);

describe('PromptHasher', () => {
  const cases: { name: string; prompt: string; blockBytes: number; maxBlocks: number; count: number }[] = [
    { name: 'full blocks only', prompt: 'a'.repeat(64 * 3 + 10), blockBytes: 64, maxBlocks: 256, count: 3 },
    { name: 'shorter than a block', prompt: 'a'.repeat(63), blockBytes: 64, maxBlocks: 256, count: 0 },
    { name: 'empty', prompt: '', blockBytes: 64, maxBlocks: 256, count: 0 },
    { name: 'truncated to maxBlocks', prompt: 'a'.repeat(64 * 300), blockBytes: 64, maxBlocks: 256, count: 256 },
    { name: 'bytes, not characters: 2-byte characters fill blocks twice as fast', prompt: 'é'.repeat(64), blockBytes: 64, maxBlocks: 256, count: 2 },
    { name: 'legacy character sizes that are not word aligned', prompt: 'abcde'.repeat(7), blockBytes: 5, maxBlocks: 256, count: 7 },
  ];
  for (const c of cases) test(c.name, () => assert.equal(h.hash('m', c.prompt, c.blockBytes, c.maxBlocks).count, c.count));

  test('a shared prefix gives equal leading hashes, then they differ for good', () => {
    const base = 'x'.repeat(64 * 4);
    const p1 = pairs(h.hash('m', base + 'A'.repeat(64) + 'same'.repeat(16), 64, 256));
    const p2 = pairs(h.hash('m', base + 'B'.repeat(64) + 'same'.repeat(16), 64, 256));
    assert.deepEqual(p1.slice(0, 4), p2.slice(0, 4));
    // Chaining: block 5 is equal text in both, but its hash covers the different block 4.
    assert.notEqual(p1[4], p2[4]);
    assert.notEqual(p1[5], p2[5]);
  });

  test('the model seeds the chain: other models never share blocks', () => {
    const p = 'y'.repeat(128);
    assert.notDeepEqual(pairs(h.hash('a', p, 64, 256)), pairs(h.hash('b', p, 64, 256)));
    assert.deepEqual(pairs(h.hash('a', p, 64, 256)), pairs(new PromptHasher().hash('a', p, 64, 256)));
  });

  test('keys and checks are V8 small integers (31 bits)', () => {
    const x = h.hash('m', 'z'.repeat(64 * 64), 64, 256);
    for (const k of [...x.keys, ...x.checks]) assert.ok(Number.isInteger(k) && k >= -(2 ** 30) && k < 2 ** 30);
    assert.equal(new Set(pairs(x)).size, 64);
  });
});
