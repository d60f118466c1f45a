/** Tests for chained block hashes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockHashes } from './prefix-hash.js';

const text = (n: number, tag: string): string => tag.repeat(n);

test('equal prefixes give equal leading hashes; the first differing block and every later one differ', () => {
  const a = blockHashes(text(64, 'abcd') + text(64, 'efgh'), '', 16, 8);
  const b = blockHashes(text(64, 'abcd') + text(64, 'wxyz'), '', 16, 8);
  assert.deepEqual(a.slice(0, 4), b.slice(0, 4));
  for (let i = 4; i < 8; i++) assert.notEqual(a[i], b[i], `block ${i}`);
  assert.equal(new Set(a).size, 8, 'a block repeated at another position hashes differently (it is chained)');
  assert.deepEqual(blockHashes(text(64, 'abcd') + text(64, 'efgh'), '', 16, 8), a, 'deterministic');
});

test('the namespace (model or adapter) changes every block; hashes are safe integers', () => {
  const cases: Array<[string, string]> = [
    ['', 'lora-a'],
    ['lora-a', 'lora-b'],
    ['ab', 'a'], // a namespace must not run into the text
  ];
  for (const [x, y] of cases) {
    const hx = blockHashes(text(32, 'bcde'), x, 16, 2);
    const hy = blockHashes(text(32, 'bcde'), y, 16, 2);
    assert.ok(hx.every((h, i) => h !== hy[i]), `${x} vs ${y}`);
    assert.ok([...hx, ...hy].every(Number.isSafeInteger));
  }
});

test('a change in the partial last block does not change the full blocks', () => {
  assert.deepEqual(blockHashes(text(20, 'abcd') + 'xy', '', 16, 1), blockHashes(text(20, 'abcd') + 'zz', '', 16, 1));
});
