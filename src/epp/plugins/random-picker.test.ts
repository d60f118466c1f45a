/** random-picker: uniform over the candidates, whatever the scores. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../seeded-random.js';
import { context, endpoints, request } from '../framework/test-fixtures.js';
import { RandomPicker } from './random-picker.js';

const eps = endpoints(4);

describe('random-picker', () => {
  const cases: { random: number; want: number }[] = [
    { random: 0, want: 0 },
    { random: 0.26, want: 1 },
    { random: 0.99, want: 3 },
  ];
  for (const c of cases) test(`random() = ${c.random}`, () => assert.equal(new RandomPicker().pick(context(request(), () => c.random), eps), eps[c.want]));

  test('ignores scores; spreads evenly', () => {
    const random = seededRandom(9);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[eps.indexOf(new RandomPicker().pick(context(request(), random), eps) as never)]!++;
    for (const n of counts) assert.ok(n > 850 && n < 1150, `share ${n}/4000`);
  });

  test('maxNumOfEndpoints: distinct endpoints', () => {
    const ranked = new RandomPicker('r', 3).pickRanked(context(request(), seededRandom(1)), eps);
    assert.equal(new Set(ranked).size, 3);
  });
});
