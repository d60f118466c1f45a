/** Tests for the per-round ratio summary the overhead scenario reports. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPairedRatio, pairedRatio, verdict } from './paired-ratio.js';

test('pairedRatio: per-round ratios, their median, and an interval around it', () => {
  const p = pairedRatio([80, 90, 70, 85, 75], [100, 100, 100, 100, 100]);
  assert.deepEqual(p.perRound, [0.8, 0.9, 0.7, 0.85, 0.75]);
  assert.equal(p.rounds, 5);
  assert.equal(p.median, 0.8);
  assert.ok(p.low >= 0.7 && p.low <= p.median, `low ${p.low}`);
  assert.ok(p.high <= 0.9 && p.high >= p.median, `high ${p.high}`);
});

test('pairedRatio: a round both targets slowed in keeps its ratio', () => {
  // The third round ran on a loaded machine: both targets at a third of their speed, same ratio.
  const a = [70, 70, 23, 70];
  const b = [100, 100, 33, 100];
  const p = pairedRatio(a, b);
  assert.ok(Math.abs(p.median - 0.7) < 0.001);
  assert.ok(p.high - p.low < 0.01, `tight interval: ${p.low}-${p.high}`);
});

test('pairedRatio: the same rounds give the same interval (seeded resampling)', () => {
  const a = [61, 72, 55, 80, 66, 70, 59, 77];
  const b = [100, 95, 90, 102, 88, 99, 93, 97];
  assert.deepEqual(pairedRatio(a, b), pairedRatio(a, b));
});

test('pairedRatio: rounds missing from either side or with a zero are left out; none left is NaN', () => {
  const p = pairedRatio([50, 60, 70], [100, 0]);
  assert.deepEqual(p.perRound, [0.5]);
  const none = pairedRatio([], [1]);
  assert.equal(none.rounds, 0);
  assert.ok(Number.isNaN(none.median));
  assert.equal(formatPairedRatio(none), 'no paired rounds');
  assert.equal(verdict(none, 0.8), 'undecided');
});

test('verdict: met only when the whole interval clears the goal, not met when all of it is below', () => {
  const high = pairedRatio([95, 96, 94, 97, 95, 96], [100, 100, 100, 100, 100, 100]);
  assert.equal(verdict(high, 0.9), 'met');
  const low = pairedRatio([60, 62, 58, 61, 63, 59], [100, 100, 100, 100, 100, 100]);
  assert.equal(verdict(low, 0.8), 'not met');
  const spread = pairedRatio([70, 90, 75, 88, 72, 86], [100, 100, 100, 100, 100, 100]);
  assert.equal(verdict(spread, 0.8), 'undecided');
  assert.match(formatPairedRatio(high), /^0\.95x \(rounds' median; 95% interval 0\.9\d-0\.9\d over 6 rounds\)$/);
});
