/** Tests for the KV-pressure verdict: the rate approximate sustains, the comparison there, the closed loop's gain. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runResult } from '../../../src/bench/report-fixtures.js';
import { atApproximateLimit, closedLoopTable, pressureTargets, sweepTable, type PressureRun } from './precise-pressure-verdict.js';

const queues = { samples: 1, meanWaiting: [0, 2], maxWaiting: [0, 5], meanRunning: [1, 3] };

function open(picker: 'approximate' | 'precise', rate: number, sustained: boolean, ttftP90: number): PressureRun {
  const result = runResult({ ttft: { p50: 50, p90: ttftP90, p99: ttftP90, mean: 60 } });
  return { picker, replicas: 1, label: `${picker} ${rate}`, result, prefixHitRate: 0.9, rate, sustained, timing: { sent: 100, successes: 100, windowS: 10, durationS: 10.5 }, queues };
}

function closed(picker: 'approximate' | 'precise', users: number, tokPerS: number): PressureRun {
  return { picker, replicas: 1, label: `${picker} c=${users}`, result: runResult({ outputTokensPerS: tokPerS }), prefixHitRate: 0.9, concurrency: users, queues };
}

const sweep = [open('approximate', 12, true, 80), open('precise', 12, true, 70), open('approximate', 24, true, 900), open('precise', 24, true, 150), open('approximate', 36, false, 9000), open('precise', 36, true, 300)];

test('the comparison is at the highest rate approximate sustained, not the last rate swept', () => {
  const limit = atApproximateLimit(sweep);
  assert.equal(limit?.rate, 24);
  assert.equal(limit?.precise?.result.ttft.p90, 150);
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
