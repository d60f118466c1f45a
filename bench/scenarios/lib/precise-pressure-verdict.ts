/**
 * The precise-prefix scenario's KV-pressure measurements (issue #14's one-replica target): an open-loop rate sweep
 * of approximate against precise, the highest rate approximate sustains, and a closed loop of N users; their
 * tables and their reading against the target. With `--repeat N` every point is run N times: the reading then
 * takes the majority's sustain verdict and the median of each picker's figures, so one run tipping into a
 * cascade (or out of one) does not decide it alone.
 */
import { formatMs } from '../../../src/bench/report-markdown.js';
import type { PreciseRun } from './precise-prefix-verdict.js';
import type { QueueStats } from './queue-sampler.js';
import { highestSustained, servedRatio, type RunTiming } from './sustain.js';
import { runTag } from './run-tag.js';

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
  /** With `--repeat`: which repetition of its point this run was, from 1. */
  repeat?: number;
  queues: QueueStats;
}

/** The median of some figures (the mean of the middle two for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The runs of one picker at one offered rate, in the order they ran. */
function runsAt(sweep: readonly PressureRun[], picker: 'approximate' | 'precise', rate: number): PressureRun[] {
  return sweep.filter((r) => r.picker === picker && r.rate === rate);
}

/** Sustained at a point: in more than half of its runs (the run itself when there is one). */
export function sustainedAt(runs: readonly PressureRun[]): boolean {
  return 2 * runs.filter((r) => r.sustained === true).length > runs.length;
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
    return row(x, backends, `${x.rate}${runTag(x)} | ${served} | ${x.sustained === true ? 'yes' : 'no'}`);
  });
  return [`| offered req/s | served / offered | sustained ${HEAD}`, `|---:|---:|---${ALIGN}`, ...rows].join('\n');
}

export function closedLoopTable(runs: readonly PressureRun[], backends: readonly string[]): string {
  return [`| users ${HEAD}`, `|---:${ALIGN}`, ...runs.map((x) => row(x, backends, `${x.concurrency}${runTag(x)}`))].join('\n');
}

const range = (xs: readonly number[], f: (v: number) => string): string => (xs.length < 2 ? f(xs[0] ?? NaN) : `${f(median(xs))} (${f(Math.min(...xs))}-${f(Math.max(...xs))})`);

/**
 * With repeated runs, one row per rate and picker: how many runs sustained, and the median (range) of TTFT p90,
 * output tokens/s and hit %.
 */
export function sweepMediansTable(sweep: readonly PressureRun[]): string {
  const rates = [...new Set(sweep.map((r) => r.rate!))].sort((a, b) => a - b);
  const rows: string[] = [];
  for (const rate of rates) {
    for (const picker of ['approximate', 'precise'] as const) {
      const runs = runsAt(sweep, picker, rate);
      if (runs.length === 0) continue;
      const p90 = runs.map((r) => r.result.ttft.p90);
      const tok = runs.map((r) => r.result.outputTokensPerS);
      const hits = runs.map((r) => 100 * r.prefixHitRate);
      rows.push(`| ${rate} | ${picker} | ${runs.filter((r) => r.sustained === true).length} of ${runs.length} | ${range(p90, formatMs)} | ${range(tok, (v) => v.toFixed(0))} | ${range(hits, (v) => v.toFixed(1))} |`);
    }
  }
  return ['| offered req/s | picker | runs sustained | TTFT p90 ms, median (range) | output tok/s, median (range) | prefix-cache hit %, median (range) |', '|---:|---|---:|---:|---:|---:|', ...rows].join('\n');
}

/** The highest rate approximate sustained in the sweep (by the majority of its runs there), with both pickers' runs at it. */
export function atApproximateLimit(sweep: readonly PressureRun[]): { rate: number; approximate: PressureRun[]; precise: PressureRun[] } | undefined {
  const rates = [...new Set(sweep.filter((r) => r.picker === 'approximate' && r.rate !== undefined).map((r) => r.rate!))];
  const rate = highestSustained(rates.map((r) => ({ rate: r, sustained: sustainedAt(runsAt(sweep, 'approximate', r)) })));
  if (rate === undefined) return undefined;
  return { rate, approximate: runsAt(sweep, 'approximate', rate), precise: runsAt(sweep, 'precise', rate) };
}

/** The one-replica KV-pressure target, each half with its figures and met / not met. */
export function pressureTargets(sweep: readonly PressureRun[], closed: readonly PressureRun[]): string[] {
  const out: string[] = [];
  if (sweep.length > 0) {
    const limit = atApproximateLimit(sweep);
    if (limit === undefined) out.push('TTFT p90 at approximate\'s limit: approximate sustained none of the swept rates');
    else if (limit.precise.length === 0) out.push(`TTFT p90 at approximate's limit (${limit.rate} req/s): precise run missing`);
    else {
      const repeated = limit.approximate.length > 1 || limit.precise.length > 1;
      const a = median(limit.approximate.map((r) => r.result.ttft.p90));
      const p = median(limit.precise.map((r) => r.result.ttft.p90));
      const lastRate = Math.max(...sweep.filter((r) => r.picker === 'approximate').map((r) => r.rate ?? 0));
      const note = limit.rate === lastRate ? ' (approximate sustained every swept rate: its limit lies higher)' : '';
      const sustainedIn = repeated ? ` (approximate sustained it in ${limit.approximate.filter((r) => r.sustained === true).length} of ${limit.approximate.length} runs)` : '';
      const pairs = repeated ? `; run by run ${limit.approximate.map((r, i) => `${formatMs(r.result.ttft.p90)} / ${limit.precise[i] === undefined ? '-' : formatMs(limit.precise[i]!.result.ttft.p90)}`).join(', ')}` : '';
      out.push(
        `TTFT p90 at the highest rate approximate sustains, ${limit.rate} req/s${sustainedIn}${note}: approximate / precise${repeated ? ', medians,' : ''} = ${formatMs(a)} / ${formatMs(p)} ms = ${ratio(a / p)}${pairs} (target >= 5x): ${a / p >= 5 ? 'met' : 'not met'}`,
      );
    }
  }
  for (const users of [...new Set(closed.map((r) => r.concurrency))]) {
    const a = closed.filter((r) => r.picker === 'approximate' && r.concurrency === users).map((r) => r.result.outputTokensPerS);
    const p = closed.filter((r) => r.picker === 'precise' && r.concurrency === users).map((r) => r.result.outputTokensPerS);
    if (a.length === 0 || p.length === 0) continue;
    const repeated = a.length > 1 || p.length > 1;
    const gain = median(p) / median(a) - 1;
    out.push(
      `closed loop, ${users} users: output tok/s precise / approximate${repeated ? `, medians of ${p.length} / ${a.length} runs,` : ''} = ${median(p).toFixed(0)} / ${median(a).toFixed(0)} = ${(100 * gain).toFixed(1)}% (target >= +20%): ${gain >= 0.2 ? 'met' : 'not met'}`,
    );
  }
  return out;
}
