/**
 * The precise-prefix scenario's KV-pressure measurements (issue #14's one-replica target): an open-loop rate sweep
 * of approximate against precise, the highest rate approximate sustains, and a closed loop of N users; their
 * tables and their reading against the target.
 */
import { formatMs } from '../../../src/bench/report-markdown.js';
import type { PreciseRun } from './precise-prefix-verdict.js';
import type { QueueStats } from './queue-sampler.js';
import { highestSustained, servedRatio, type RunTiming } from './sustain.js';

/** One measured run under pressure: a sweep point (open loop, with its timing) or a closed-loop run. */
export interface PressureRun extends PreciseRun {
  /** Open loop: the offered rate; closed loop: undefined. */
  rate?: number;
  /** Closed loop: the number of users; open loop: undefined. */
  concurrency?: number;
  /** Open loop only: sends and answers over time, for the sustain criterion. */
  timing?: RunTiming;
  /** Open loop only: whether the run kept up with its rate (sustain.ts). */
  sustained?: boolean;
  queues: QueueStats;
}

const pct = (v: number): string => (Number.isFinite(v) ? (100 * v).toFixed(1) : '-');
const ratio = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}x` : '-');

/** `1.2 / 0.3 / ...` per pod, and the fleet's largest single sample. */
export function queueCell(q: QueueStats): string {
  const means = q.meanWaiting.map((v) => (Number.isFinite(v) ? v.toFixed(1) : '-')).join(' / ');
  return `${means} (max ${Math.max(0, ...q.maxWaiting)})`;
}

function row(x: PressureRun, backends: readonly string[], first: string): string {
  const r = x.result;
  const split = backends.map((b) => r.perEndpoint[b] ?? 0).join(' / ');
  return `| ${first} | ${x.picker} | ${r.successes}/${r.requests} | ${formatMs(r.ttft.p50)} / ${formatMs(r.ttft.p90)} | ${r.rps.toFixed(1)} | ${r.outputTokensPerS.toFixed(0)} | ${pct(x.prefixHitRate)} | ${split} | ${queueCell(x.queues)} |`;
}

const HEAD = '| picker | ok / sent | TTFT p50 / p90 ms | served req/s | output tok/s | prefix-cache hit % | requests per pod | waiting per pod, mean (max) |';
const ALIGN = '|---|---:|---:|---:|---:|---:|---|---|';

/** The sweep, rate by rate, approximate then precise; served / offered and sustained for each. */
export function sweepTable(runs: readonly PressureRun[], backends: readonly string[]): string {
  const rows = runs.map((x) => {
    const served = x.timing === undefined ? '-' : servedRatio(x.timing).toFixed(2);
    return row(x, backends, `${x.rate} | ${served} | ${x.sustained === true ? 'yes' : 'no'}`);
  });
  return [`| offered req/s | served / offered | sustained ${HEAD}`, `|---:|---:|---${ALIGN}`, ...rows].join('\n');
}

export function closedLoopTable(runs: readonly PressureRun[], backends: readonly string[]): string {
  return [`| users ${HEAD}`, `|---:${ALIGN}`, ...runs.map((x) => row(x, backends, String(x.concurrency)))].join('\n');
}

/** The highest rate approximate sustained in the sweep, with both pickers' runs at it. */
export function atApproximateLimit(sweep: readonly PressureRun[]): { rate: number; approximate: PressureRun; precise: PressureRun | undefined } | undefined {
  const approx = sweep.filter((r) => r.picker === 'approximate' && r.rate !== undefined);
  const rate = highestSustained(approx.map((r) => ({ rate: r.rate!, sustained: r.sustained === true })));
  if (rate === undefined) return undefined;
  return { rate, approximate: approx.find((r) => r.rate === rate)!, precise: sweep.find((r) => r.picker === 'precise' && r.rate === rate) };
}

/** The one-replica KV-pressure target, each half with its figures and met / not met. */
export function pressureTargets(sweep: readonly PressureRun[], closed: readonly PressureRun[]): string[] {
  const out: string[] = [];
  if (sweep.length > 0) {
    const limit = atApproximateLimit(sweep);
    if (limit === undefined) out.push('TTFT p90 at approximate\'s limit: approximate sustained none of the swept rates');
    else if (limit.precise === undefined) out.push(`TTFT p90 at approximate's limit (${limit.rate} req/s): precise run missing`);
    else {
      const a = limit.approximate.result.ttft.p90;
      const p = limit.precise.result.ttft.p90;
      const lastRate = Math.max(...sweep.filter((r) => r.picker === 'approximate').map((r) => r.rate ?? 0));
      const note = limit.rate === lastRate ? ' (approximate sustained every swept rate: its limit lies higher)' : '';
      out.push(`TTFT p90 at the highest rate approximate sustains, ${limit.rate} req/s${note}: approximate / precise = ${formatMs(a)} / ${formatMs(p)} ms = ${ratio(a / p)} (target >= 5x): ${a / p >= 5 ? 'met' : 'not met'}`);
    }
  }
  for (const users of [...new Set(closed.map((r) => r.concurrency))]) {
    const a = closed.find((r) => r.picker === 'approximate' && r.concurrency === users);
    const p = closed.find((r) => r.picker === 'precise' && r.concurrency === users);
    if (a === undefined || p === undefined) continue;
    const gain = p.result.outputTokensPerS / a.result.outputTokensPerS - 1;
    out.push(`closed loop, ${users} users: output tok/s precise / approximate = ${p.result.outputTokensPerS.toFixed(0)} / ${a.result.outputTokensPerS.toFixed(0)} = ${(100 * gain).toFixed(1)}% (target >= +20%): ${gain >= 0.2 ? 'met' : 'not met'}`);
  }
  return out;
}
