/** Tests for the precise-prefix charts: which files, which lines, and medians where a rate ran more than once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runResult } from '../../../src/bench/report-fixtures.js';
import { replicaCharts, sweepCharts, sweepLines } from './precise-prefix-charts.js';
import type { PreciseRun } from './precise-prefix-verdict.js';
import type { PressureRun } from './precise-pressure-verdict.js';

type Picker = PreciseRun['picker'];
const queues = { samples: 1, meanWaiting: [0], maxWaiting: [0], meanRunning: [1] };

function table(picker: Picker, replicas: number, p90: number, hits: number): PreciseRun {
  return { picker, replicas, label: `${picker} x${replicas}`, result: runResult({ ttft: { p50: p90 / 2, p90, p99: p90, mean: p90 / 2 } }), prefixHitRate: hits };
}

function swept(picker: Picker, rate: number, p90: number, repeat: number): PressureRun {
  return { ...table(picker, 1, p90, 0.9), rate, repeat, queues };
}

test('table mode: TTFT p90 and hits by replicas for approximate and precise, and every one-gateway picker as a bar', () => {
  const runs = [table('round-robin', 0, 900, 0.2), table('load-only', 1, 800, 0.3), table('approximate', 1, 70, 0.99), table('precise', 1, 69, 0.99), table('approximate', 3, 600, 0.54), table('precise', 3, 70, 0.99)];
  const charts = replicaCharts(runs);
  assert.deepEqual(charts.map((c) => c.file), ['precise-prefix-replicas-ttft-p90.svg', 'precise-prefix-replicas-hits.svg', 'precise-prefix-one-gateway-ttft-p90.svg']);
  for (const c of charts) assert.match(c.svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^]*<\/svg>\n?$/);
  // Two lines with a marker per replica count, each with its legend entry.
  const ttft = charts[0]!.svg;
  assert.equal((ttft.match(/<path /g) ?? []).length, 2);
  assert.match(ttft, />approximate</);
  assert.match(ttft, />precise</);
  // Bars: round-robin (no gateway), load-only, approximate and precise at one replica; not the 3-replica runs.
  const bars = charts[2]!.svg;
  for (const label of ['round-robin', 'load-only', 'approximate', 'precise']) assert.match(bars, new RegExp(`>${label}<`));
  assert.equal((bars.match(/<rect /g) ?? []).length, 1 + 4, 'the background and four bars');
});

test('sweep: one point per rate, the median of repeated runs, rates in order; closed-loop runs are left out', () => {
  const runs = [swept('approximate', 14, 11316, 1), swept('precise', 14, 5338, 1), swept('approximate', 13, 1241, 1), swept('precise', 13, 337, 1),
    swept('approximate', 13, 3336, 2), swept('precise', 13, 1459, 2), swept('approximate', 13, 306, 3), swept('precise', 13, 6147, 3)];
  const closed: PressureRun = { ...table('precise', 1, 99, 0.9), queues, concurrency: 40 };
  const lines = sweepLines([...runs, closed], (r) => r.result.ttft.p90);
  assert.deepEqual(lines, [
    { name: 'approximate', points: [[13, 1241], [14, 11316]] },
    { name: 'precise', points: [[13, 1459], [14, 5338]] },
  ]);
  assert.deepEqual(sweepCharts(runs).map((c) => c.file), ['precise-prefix-sweep-ttft-p90.svg', 'precise-prefix-sweep-output-tokens.svg', 'precise-prefix-sweep-hits.svg']);
});
