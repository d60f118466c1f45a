/** weighted-random-picker: probability proportional to the total; all zero -> uniform. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../seeded-random.js';
import { context, endpoints, request } from '../framework/test-fixtures.js';
import { WeightedRandomPicker } from './weighted-random-picker.js';

const eps = endpoints(3);

function shares(totals: number[], draws = 6000): number[] {
  const random = seededRandom(11);
  const counts = totals.map(() => 0);
  const p = new WeightedRandomPicker();
  for (let i = 0; i < draws; i++) counts[eps.indexOf(p.pick(context(request(), random), eps, totals) as never)]!++;
  return counts.map((c) => c / draws);
}

describe('weighted-random-picker', () => {
  const cases: { name: string; totals: number[]; want: number[] }[] = [
    { name: 'proportional to the totals', totals: [1, 2, 3], want: [1 / 6, 2 / 6, 3 / 6] },
    { name: 'a zero total is never picked', totals: [0, 1, 1], want: [0, 0.5, 0.5] },
    { name: 'all zero: uniform', totals: [0, 0, 0], want: [1 / 3, 1 / 3, 1 / 3] },
  ];
  for (const c of cases) {
    test(c.name, () => shares(c.totals).forEach((s, i) => assert.ok(Math.abs(s - (c.want[i] ?? 0)) < 0.03, `endpoint ${i}: ${s} vs ${c.want[i]}`)));
  }

  test('maxNumOfEndpoints: zero-score endpoints come last', () => {
    const ranked = new WeightedRandomPicker('w', 3).pickRanked(context(request(), seededRandom(2)), eps, [0, 5, 1]);
    assert.equal(ranked[2], eps[0]);
    assert.equal(new Set(ranked).size, 3);
  });
});
