/** load-aware-scorer: 0.5 for an empty queue, 0.5 x (1 - min(q, T) / T) otherwise. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { context, endpointsWith } from '../framework/test-fixtures.js';
import { registerBuiltins } from './register-builtins.js';
import { LoadAwareScorer } from './load-aware-scorer.js';

describe('load-aware-scorer', () => {
  const cases: { name: string; threshold?: number; queues: (number | undefined)[]; want: number[] }[] = [
    { name: 'default threshold 128', queues: [0, 64, 128, 500], want: [0.5, 0.25, 0, 0] },
    { name: 'threshold 10', threshold: 10, queues: [0, 1, 5, 10], want: [0.5, 0.45, 0.25, 0] },
    { name: 'no metrics scores 0', queues: [undefined], want: [0] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const eps = endpointsWith(c.queues, (b, q) => b.waiting(q));
      const scorer = new LoadAwareScorer('load-aware-scorer', c.threshold);
      assert.deepEqual(Array.from(scorer.score(context(), eps)).map((s) => Math.round(s * 1e9) / 1e9), c.want);
    });
  }
  test('threshold must be a positive integer', () => {
    assert.equal((registerBuiltins().create('load-aware-scorer', 'l', { threshold: 64 }) as LoadAwareScorer).threshold, 64);
    assert.throws(() => registerBuiltins().create('load-aware-scorer', 'l', { threshold: 0 }), /parameters\.threshold: must be a positive integer, got 0/);
  });
});
