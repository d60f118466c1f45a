/** Tests for the engine's chained block hashes over token ids. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NONE_HASH, blockHashes } from './prefix-hash.js';

const ids = (n: number, from: number): number[] => Array.from({ length: n }, (_, i) => from + i);

test('equal prefixes give equal leading hashes; the first differing block and every later one differ', () => {
  const a = blockHashes([...ids(64, 1), ...ids(64, 1000)], 16, 8, null);
  const b = blockHashes([...ids(64, 1), ...ids(64, 5000)], 16, 8, null);
  assert.deepEqual(a.slice(0, 4), b.slice(0, 4));
  for (let i = 4; i < 8; i++) assert.notEqual(a[i], b[i], `block ${i}`);
  const same = blockHashes(new Array<number>(128).fill(7), 16, 8, null);
  assert.equal(new Set(same).size, 8, 'a block repeated at another position hashes differently (it is chained)');
  assert.deepEqual(blockHashes([...ids(64, 1), ...ids(64, 1000)], 16, 8, null), a, 'deterministic');
});

test('the extra key (LoRA adapter) changes every block; hashes are unsigned 64-bit and use the high bits', () => {
  const cases: Array<[string | null, string | null]> = [
    [null, 'lora-a'],
    ['lora-a', 'lora-b'],
    ['', null], // an empty name is still a key
  ];
  for (const [x, y] of cases) {
    const hx = blockHashes(ids(32, 9), 16, 2, x);
    const hy = blockHashes(ids(32, 9), 16, 2, y);
    assert.ok(hx.every((h, i) => h !== hy[i]), `${x} vs ${y}`);
    assert.ok([...hx, ...hy].every((h) => h >= 0n && h < 2n ** 64n));
  }
  const many = blockHashes(ids(16 * 64, 1), 16, 64, null);
  assert.ok(many.some((h) => h > BigInt(Number.MAX_SAFE_INTEGER)), 'not confined to 53 bits');
  assert.equal(new Set(many).size, 64);
});

test('block i hashes (parent, its tokens, extra key): recomputing a suffix from its parent gives the same values', () => {
  const tokens = ids(48, 100);
  const all = blockHashes(tokens, 16, 3, 'x');
  assert.notEqual(all[0], NONE_HASH);
  // Ids past the last full block do not matter.
  assert.deepEqual(blockHashes([...tokens, 1, 2, 3], 16, 3, 'x'), all);
  assert.deepEqual(blockHashes(tokens.slice(0, 32), 16, 2, 'x'), all.slice(0, 2));
});

test('a chain extended from a block and its parent equals the chain hashed at once', () => {
  const tokens = ids(16 * 6, 3);
  for (const key of [null, 'lora-a']) {
    const whole = blockHashes(tokens, 16, 6, key);
    assert.deepEqual(blockHashes(tokens, 16, 6, key, 4, whole[3]), whole.slice(4));
    assert.deepEqual(blockHashes(tokens, 16, 1, key, 0), whole.slice(0, 1), 'block 0 chains on NONE_HASH by default');
    assert.notDeepEqual(blockHashes(tokens, 16, 5, key, 4, whole[2]), whole.slice(4, 5), 'the parent is part of the hash');
  }
});
