/** Nearest-rank percentiles. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentiles } from './percentiles.js';

test('percentiles: table of inputs', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
  const cases: [number[], { p50: number; p90: number; p99: number; mean: number }][] = [
    [[5], { p50: 5, p90: 5, p99: 5, mean: 5 }],
    [[3, 1, 2, 4], { p50: 2, p90: 4, p99: 4, mean: 2.5 }],
    [hundred, { p50: 50, p90: 90, p99: 99, mean: 50.5 }],
    [[1, NaN, 3], { p50: 1, p90: 3, p99: 3, mean: 2 }],
  ];
  for (const [values, want] of cases) assert.deepEqual(percentiles(values), want, JSON.stringify(values));
  const empty = percentiles([]);
  assert.ok(Object.values(empty).every(Number.isNaN), 'nothing measured: NaN');
});
