/** Tests for the KV-pressure verdict: the rate approximate sustains, the comparison there, the closed loop's gain. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runResult } from '../../../src/bench/report-fixtures.js';
import { atApproximateLimit, closedLoopTable, median, pressureTargets, sweepMediansTable, sweepTable, type PressureRun } from './precise-pressure-verdict.js';

const queues = { samples: 1, meanWaiting: [0, 2], maxWaiting: [0, 5], meanRunning: [1, 3] };

function open(picker: 'approximate' | 'precise', rate: number, sustained: boolean, ttftP90: number, repeat?: number): PressureRun {
  const result = runResult({ ttft: { p50: 50, p90: ttftP90, p99: ttftP90, mean: 60 } });
  const run: PressureRun = { picker, replicas: 1, label: `${picker} ${rate}`, result, prefixHitRate: 0.9, rate, sustained, timing: { sent: 100, successes: 100, windowS: 10, durationS: 10.5 }, queues };
  if (repeat !== undefined) run.repeat = repeat;
  return run;
}

function closed(picker: 'approximate' | 'precise', users: number, tokPerS: number): PressureRun {
  return { picker, replicas: 1, label: `${picker} c=${users}`, result: runResult({ outputTokensPerS: tokPerS }), prefixHitRate: 0.9, concurrency: users, queues };
}

const sweep = [open('approximate', 12, true, 80), open('precise', 12, true, 70), open('approximate', 24, true, 900), open('precise', 24, true, 150), open('approximate', 36, false, 9000), open('precise', 36, true, 300)];

test('the comparison is at the highest rate approximate sustained, not the last rate swept', () => {
  const limit = atApproximateLimit(sweep);
  assert.equal(limit?.rate, 24);
  assert.deepEqual(limit?.precise.map((r) => r.result.ttft.p90), [150]);
  const [ttft] = pressureTargets(sweep, []);
  assert.match(ttft!, /24 req\/s: approximate \/ precise = 900\.0 \/ 150\.0 ms = 6\.00x \(target >= 5x\): met/);
});

test('a sweep approximate never failed says its limit lies higher; one it always failed says so', () => {
  assert.match(pressureTargets(sweep.slice(0, 4), [])[0]!, /sustained every swept rate/);
  assert.match(pressureTargets([open('approximate', 12, false, 5000), open('precise', 12, true, 70)], [])[0]!, /sustained none/);
});

test('closed loop: output tokens/s gain against +20%', () => {
  const lines = pressureTargets([], [closed('approximate', 40, 1000), closed('precise', 40, 1250)]);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /40 users: .* = 1250 \/ 1000 = 25\.0% \(target >= \+20%\): met/);
  assert.match(pressureTargets([], [closed('approximate', 40, 1000), closed('precise', 40, 1100)])[0]!, /10\.0% .*not met/);
});

test('tables carry the sustain verdict and the queue depths per pod', () => {
  const backends = ['10.0.0.1:8000', '10.0.0.2:8000'];
  const s = sweepTable(sweep, backends);
  assert.equal(s.split('\n').length, 2 + sweep.length);
  assert.match(s, /\| 36 \| 0\.95 \| no \| approximate \|/);
  assert.match(s, /0\.0 \/ 2\.0 \(max 5\)/);
  assert.match(closedLoopTable([closed('precise', 40, 1250)], backends), /\| 40 \| precise \| 98\/100 \|/);
});

test('median: odd and even counts, none', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

// Three runs per point, as --repeat 3 makes them: at 7 req/s approximate sustained once in three, so its limit
// is 6.5, where it sustained twice; the ratio is of the medians, not of any single run.
const repeated = [
  open('approximate', 6.5, true, 1300, 1), open('precise', 6.5, true, 1250, 1),
  open('precise', 6.5, true, 3200, 2), open('approximate', 6.5, false, 8700, 2),
  open('approximate', 6.5, true, 6500, 3), open('precise', 6.5, true, 1260, 3),
  open('approximate', 7, true, 5000, 1), open('precise', 7, false, 7500, 1),
  open('precise', 7, true, 1280, 2), open('approximate', 7, false, 4200, 2),
  open('approximate', 7, false, 9000, 3), open('precise', 7, true, 1300, 3),
];

test('repeated runs: the majority decides what was sustained, medians decide the ratio', () => {
  const limit = atApproximateLimit(repeated);
  assert.equal(limit?.rate, 6.5);
  assert.equal(limit?.approximate.length, 3);
  const [ttft] = pressureTargets(repeated, []);
  assert.match(ttft!, /6\.5 req\/s \(approximate sustained it in 2 of 3 runs\): approximate \/ precise, medians, = 6500 \/ 1260 ms = 5\.16x; run by run 1300 \/ 1250, 8700 \/ 3200, 6500 \/ 1260 \(target >= 5x\): met/);
  // Read from the first runs alone, the limit would have been 7 req/s.
  assert.equal(atApproximateLimit(repeated.filter((r) => r.repeat === 1))?.rate, 7);
});

test('repeated runs: the medians table and the closed loop read medians, with ranges', () => {
  const t = sweepMediansTable(repeated);
  assert.match(t, /\| 6\.5 \| approximate \| 2 of 3 \| 6500 \(1300-8700\) \|/);
  assert.match(t, /\| 7 \| precise \| 2 of 3 \| 1300 \(1280-7500\) \|/);
  assert.match(sweepTable(repeated, ['10.0.0.1:8000']), /\| 7 \(run 2\) \| 0\.95 \| no \| approximate \|/);
  const closedRuns = [closed('approximate', 40, 1000), closed('precise', 40, 900), closed('approximate', 40, 1200), closed('precise', 40, 1400), closed('approximate', 40, 1100), closed('precise', 40, 1500)];
  assert.match(pressureTargets([], closedRuns)[0]!, /medians of 3 \/ 3 runs, = 1400 \/ 1100 = 27\.3% \(target >= \+20%\): met/);
});
