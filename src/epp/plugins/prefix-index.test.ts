/** PrefixIndex: leading blocks held per endpoint, LRU eviction from prompt ends, forgetting endpoints. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../datastore/endpoint.js';
import { endpoint } from '../framework/test-fixtures.js';
import type { BlockHashes } from './prefix-block-hash.js';
import { PrefixIndex } from './prefix-index.js';

/** A prompt of blocks named by numbers: same number, same block (chained hashes are unique per prefix). */
function blocks(...ids: number[]): BlockHashes {
  let chain = 7;
  const keys: number[] = [];
  const checks: number[] = [];
  ids.forEach((id, i) => {
    chain = (Math.imul(chain ^ id, 0x01000193) + i) | 0;
    keys[i] = chain >> 1;
    checks[i] = (chain ^ 0x5bd1e995) >> 1;
  });
  return { count: ids.length, keys, checks };
}

const [a, b, c] = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((ip) => endpoint(ip).build()) as [Endpoint, Endpoint, Endpoint];

function matches(index: PrefixIndex, h: BlockHashes): Record<string, number> {
  return Object.fromEntries(index.match(h).map((s) => [s.address, s.matched]));
}

describe('PrefixIndex', () => {
  test('each endpoint matches the leading blocks it holds', () => {
    const index = new PrefixIndex();
    index.add(blocks(1, 2, 3, 4), a, 100);
    index.add(blocks(1, 2, 9), b, 100);
    index.add(blocks(5, 6), c, 100);
    assert.deepEqual(matches(index, blocks(1, 2, 3, 4, 5)), { [a.address]: 4, [b.address]: 2 });
    assert.deepEqual(matches(index, blocks(1, 2, 9, 9)), { [a.address]: 2, [b.address]: 3 });
    assert.deepEqual(matches(index, blocks(5, 6)), { [c.address]: 2 });
    assert.deepEqual(matches(index, blocks(7)), {});
    assert.deepEqual(matches(index, blocks()), {});
  });

  test('a match stops at the first block nobody holds', () => {
    const index = new PrefixIndex();
    index.add(blocks(1, 2, 3), a, 100);
    assert.deepEqual(matches(index, blocks(1, 8, 3)), { [a.address]: 1 });
  });

  test('capacity evicts least recently used blocks, a prompt from its end', () => {
    const index = new PrefixIndex();
    index.add(blocks(1, 2, 3, 4), a, 6);
    index.add(blocks(5, 6, 7), a, 6);
    // 7 blocks for 6 slots: the oldest is block 4 of the first prompt, its last.
    assert.equal(index.held(a.address), 6);
    assert.deepEqual(matches(index, blocks(1, 2, 3, 4)), { [a.address]: 3 });
    // Touching the first prompt again makes the second one the older: its tail goes first.
    index.add(blocks(1, 2, 3, 4), a, 6);
    assert.deepEqual(matches(index, blocks(5, 6, 7)), { [a.address]: 2 });
  });

  test('add after match reuses what match found, with the same result as a cold add', () => {
    const warm = new PrefixIndex();
    const cold = new PrefixIndex();
    for (const index of [warm, cold]) {
      index.add(blocks(1, 2, 3), a, 5);
      index.add(blocks(1, 2, 4, 5), b, 5);
    }
    const h = blocks(1, 2, 3, 6, 7);
    warm.match(h);
    warm.add(h, a, 5);
    cold.add(h, a, 5);
    const probe = blocks(1, 2, 3, 6, 7);
    assert.deepEqual(matches(warm, probe), matches(cold, probe));
    assert.equal(warm.held(a.address), 5);
    // A hint taken before other changes stays safe: a's two new blocks push out the tail of its prompt.
    const hint = warm.hint(probe, b);
    warm.add(blocks(9, 9), a, 5);
    warm.add(probe, b, 5, hint);
    assert.deepEqual(matches(warm, probe), { [a.address]: 3, [b.address]: 5 });
  });

  test('forget drops an endpoint; a new Endpoint object at the same address starts empty', () => {
    const index = new PrefixIndex();
    index.add(blocks(1, 2), a, 10);
    index.add(blocks(1, 2), b, 10);
    index.forget(a.address);
    assert.deepEqual(matches(index, blocks(1, 2)), { [b.address]: 2 });
    const b2 = endpoint('10.0.0.2').build();
    index.add(blocks(3), b2, 10);
    assert.deepEqual(matches(index, blocks(1, 2)), {});
    assert.equal(index.stats.blocks, 1);
  });
});
