import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlockIndex } from './block-index.js';
import { TIER_CPU, TIER_GPU, TIER_SPECULATIVE, tierOf } from './device-tiers.js';
import type { BlockKeys } from './block-key.js';

/** Keys 1..n (hi = 0, lo = i), as a request's chain. */
function chain(n: number, offset = 0): BlockKeys {
  const keys = new Int32Array(n * 2);
  for (let i = 0; i < n; i++) keys[2 * i + 1] = i + 1 + offset;
  return { count: n, keys };
}

function holdPrefix(ix: BlockIndex, pod: number, keys: BlockKeys, blocks: number, tier = TIER_GPU): void {
  ix.addKeys(keys, pod, tier, 0, blocks);
}

/** address -> [matched, score] of a lookup. */
function lookup(ix: BlockIndex, keys: BlockKeys): Record<string, [number, number]> {
  const r = ix.lookup(keys);
  const out: Record<string, [number, number]> = {};
  for (let i = 0; i < r.size; i++) out[ix.addressOf(r.pods[i]!)!] = [r.matched[i]!, Math.round(r.scores[i]! * 100) / 100];
  return out;
}

describe('BlockIndex longest prefix (table)', () => {
  const keys = chain(6);
  const cases: { name: string; holdings: [string, number, number?][]; want: Record<string, [number, number]> }[] = [
    { name: 'nobody holds the first block', holdings: [], want: {} },
    { name: 'one pod holds all', holdings: [['a', 6]], want: { a: [6, 6] } },
    { name: 'two pods, different depths', holdings: [['a', 2], ['b', 5]], want: { a: [2, 2], b: [5, 5] } },
    { name: 'cpu blocks weigh 0.8', holdings: [['a', 3, TIER_CPU]], want: { a: [3, 2.4] } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const ix = new BlockIndex({ capacity: 100, podsPerKey: 10 });
      for (const [addr, n, tier] of c.holdings) holdPrefix(ix, ix.podId(addr), keys, n, tier);
      assert.deepEqual(lookup(ix, keys), c.want);
    });
  }

  it('stops a pod at the first block it misses, even if it holds later ones', () => {
    const ix = new BlockIndex({ capacity: 100, podsPerKey: 10 });
    const a = ix.podId('a');
    holdPrefix(ix, a, keys, 6);
    ix.evict(0, 3, a, TIER_GPU); // block 2 (key 3) gone
    assert.deepEqual(lookup(ix, keys), { a: [2, 2] });
  });
});

describe('BlockIndex bookkeeping', () => {
  it('keeps a holding until its last tier is evicted', () => {
    const ix = new BlockIndex({ capacity: 10, podsPerKey: 10 });
    const a = ix.podId('a');
    ix.add(0, 1, a, TIER_GPU);
    ix.add(0, 1, a, TIER_CPU);
    ix.evict(0, 1, a, TIER_GPU);
    assert.ok(ix.holds(0, 1, a, TIER_CPU));
    assert.ok(!ix.holds(0, 1, a, TIER_GPU));
    ix.evict(0, 1, a, TIER_CPU);
    assert.equal(ix.size, 0);
    assert.equal(ix.holdings, 0);
  });

  it('keeps at most podsPerKey pods per key, the most recently stored', () => {
    const ix = new BlockIndex({ capacity: 10, podsPerKey: 2 });
    for (const p of ['a', 'b', 'c']) ix.add(0, 1, ix.podId(p), TIER_GPU);
    assert.deepEqual(Object.keys(lookup(ix, chain(1))).sort(), ['b', 'c']);
    const one = new BlockIndex({ capacity: 10, podsPerKey: 1 });
    one.add(0, 1, one.podId('a'), TIER_GPU);
    one.add(0, 1, one.podId('b'), TIER_GPU);
    assert.deepEqual(Object.keys(lookup(one, chain(1))), ['b']);
    assert.equal(one.size, 1);
  });

  it('is bounded: past capacity the least recently stored key goes', () => {
    const ix = new BlockIndex({ capacity: 3, podsPerKey: 10 });
    const a = ix.podId('a');
    for (let k = 1; k <= 3; k++) ix.add(0, k, a, TIER_GPU);
    ix.add(0, 1, ix.podId('b'), TIER_GPU); // key 1 stored again: key 2 is now the oldest
    ix.lookup(chain(3)); // lookups only read
    ix.add(0, 4, a, TIER_GPU);
    assert.equal(ix.size, 3);
    assert.ok(ix.holds(0, 1, a) && !ix.holds(0, 2, a) && ix.holds(0, 4, a));
    assert.equal(ix.stats.evictions, 1);
  });

  it('clears a pod (AllBlocksCleared) without touching the others', () => {
    const ix = new BlockIndex({ capacity: 100, podsPerKey: 10 });
    const keys = chain(4);
    holdPrefix(ix, ix.podId('a'), keys, 4);
    holdPrefix(ix, ix.podId('b'), keys, 2);
    assert.equal(ix.clearPod(ix.podId('a')), 4);
    assert.deepEqual(lookup(ix, keys), { b: [2, 2] });
    assert.equal(ix.size, 2);
    ix.removePod('b');
    assert.equal(ix.size, 0);
    assert.equal(ix.findPod('b'), -1);
  });

  it('reuses pod ids after removal and never confuses their holdings', () => {
    const ix = new BlockIndex({ capacity: 100, podsPerKey: 10 });
    const a = ix.podId('a');
    holdPrefix(ix, a, chain(2), 2);
    ix.removePod('a');
    const b = ix.podId('b');
    assert.equal(b, a);
    assert.equal(ix.heldBy(b), 0);
    assert.deepEqual(lookup(ix, chain(2)), {});
  });

  it('survives churn: random adds, evictions and clears keep its counts consistent', () => {
    const ix = new BlockIndex({ capacity: 500, podsPerKey: 3 });
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    const pods = ['a', 'b', 'c', 'd', 'e'].map((p) => ix.podId(p));
    for (let i = 0; i < 20_000; i++) {
      const pod = pods[rnd(pods.length)]!;
      const key = rnd(800);
      const op = rnd(10);
      if (op < 6) ix.add(key >> 4, key, pod, op < 5 ? TIER_GPU : TIER_SPECULATIVE);
      else if (op < 9) ix.evict(key >> 4, key, pod, TIER_GPU | TIER_SPECULATIVE);
      else if (rnd(50) === 0) ix.clearPod(pod);
    }
    assert.ok(ix.size <= 500);
    let held = 0;
    for (const p of pods) held += ix.heldBy(p);
    assert.equal(held, ix.holdings);
    assert.ok(ix.holdings <= ix.size * 3);
  });

  it('reads vLLM media as tiers', () => {
    assert.equal(tierOf(null), TIER_GPU);
    assert.equal(tierOf('GPU'), TIER_GPU);
    assert.equal(tierOf('cpu'), TIER_CPU);
    assert.notEqual(tierOf('disk'), TIER_GPU);
  });
});
