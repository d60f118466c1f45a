/** max-score-picker: the highest total; ties at random, each tied endpoint equally likely. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../seeded-random.js';
import { context, endpoints, request } from '../framework/test-fixtures.js';
import { MaxScorePicker } from './max-score-picker.js';
import { registerBuiltins } from './register-builtins.js';

const eps = endpoints(4);

describe('max-score-picker', () => {
  const cases: { name: string; totals: number[]; want: number }[] = [
    { name: 'the highest total', totals: [1, 3, 2, 0], want: 1 },
    { name: 'first of all zero with random() = 0.99', totals: [0, 0, 0, 0], want: 0 },
    { name: 'negative totals still compare', totals: [-1, -3, -2, -4], want: 0 },
  ];
  for (const c of cases) test(c.name, () => assert.equal(new MaxScorePicker().pick(context(request(), () => 0.99), eps, c.totals), eps[c.want]));

  test('ties are spread uniformly', () => {
    const random = seededRandom(3);
    const counts = [0, 0, 0, 0];
    const p = new MaxScorePicker();
    for (let i = 0; i < 4000; i++) counts[eps.indexOf(p.pick(context(request(), random), eps, [2, 5, 5, 5]) as never)]!++;
    assert.equal(counts[0], 0);
    for (const n of counts.slice(1)) assert.ok(n > 1150 && n < 1520, `tie share ${n}/4000`);
  });

  test('maxNumOfEndpoints ranks the best first', () => {
    const p = registerBuiltins().create('max-score-picker', 'm', { maxNumOfEndpoints: 3 }) as MaxScorePicker;
    assert.deepEqual(p.pickRanked(context(), eps, [1, 4, 3, 2]), [eps[1], eps[2], eps[3]]);
    assert.throws(() => registerBuiltins().create('max-score-picker', 'm', { maxNumOfEndpoints: 0 }), /maxNumOfEndpoints: must be a positive integer, got 0/);
  });
});
