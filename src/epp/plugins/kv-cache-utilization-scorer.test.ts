/** kv-cache-utilization-scorer: 1 - kv usage; no metrics -> 0. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { context, endpointsWith } from '../framework/test-fixtures.js';
import { KvCacheUtilizationScorer } from './kv-cache-utilization-scorer.js';

describe('kv-cache-utilization-scorer', () => {
  const cases: { name: string; kv: (number | undefined)[]; want: number[] }[] = [
    { name: 'free cache scores high', kv: [0, 0.25, 1], want: [1, 0.75, 0] },
    { name: 'out-of-range readings are clamped', kv: [-0.1, 1.2], want: [1, 0] },
    { name: 'no metrics scores 0', kv: [undefined, 0.5], want: [0, 0.5] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const eps = endpointsWith(c.kv, (b, kv) => b.kv(kv));
      assert.deepEqual(Array.from(new KvCacheUtilizationScorer().score(context(), eps)), c.want);
    });
  }
});
