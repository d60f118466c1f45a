/** The precise-prefix scenario's table and its reading against issue #14's targets. */
import type { RunResult } from '../../../src/bench/run-bench.js';
import { formatMs } from '../../../src/bench/report-markdown.js';
import type { PrefixHolders } from './prefix-holders.js';

/** One measured run. `replicas` is 0 for round-robin straight to the pods. */
export interface PreciseRun {
  picker: 'round-robin' | 'load-only' | 'approximate' | 'precise';
  replicas: number;
  label: string;
  result: RunResult;
  /** Prompt tokens the pods served from their prefix caches during the measured part, in [0, 1]. */
  prefixHitRate: number;
  /** With `--decisions-out`: what the gateways' kept decisions say about prefix affinity (all replicas together). */
  holders?: PrefixHolders;
}

const pct = (v: number): string => (Number.isFinite(v) ? (100 * v).toFixed(1) : '-');
const ratio = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}x` : '-');

export function preciseTable(runs: readonly PreciseRun[], backends: readonly string[]): string {
  const rows = runs.map((x) => {
    const r = x.result;
    const split = backends.map((b) => r.perEndpoint[b] ?? 0).join(' / ');
    return `| ${x.label} | ${r.successes}/${r.requests} | ${formatMs(r.ttft.p50)} / ${formatMs(r.ttft.p90)} | ${r.outputTokensPerS.toFixed(0)} | ${pct(x.prefixHitRate)} | ${split} |`;
  });
  return ['| picker | ok / sent | TTFT p50 / p90 ms | output tok/s | prefix-cache hit % | requests per pod |', '|---|---:|---:|---:|---:|---|', ...rows].join('\n');
}

function find(runs: readonly PreciseRun[], picker: PreciseRun['picker'], replicas: number): PreciseRun | undefined {
  return runs.find((r) => r.picker === picker && r.replicas === replicas);
}

/** Each target with the measured figures and met / not met; a target whose runs are missing says so. */
export function preciseTargets(runs: readonly PreciseRun[]): string[] {
  const out: string[] = [];
  const a1 = find(runs, 'approximate', 1);
  const p1 = find(runs, 'precise', 1);
  if (a1 && p1) {
    const speed = a1.result.ttft.p90 / p1.result.ttft.p90;
    out.push(`one replica, TTFT p90 approximate / precise = ${formatMs(a1.result.ttft.p90)} / ${formatMs(p1.result.ttft.p90)} ms = ${ratio(speed)} (target >= 5x): ${speed >= 5 ? 'met' : 'not met'}`);
    const gain = p1.result.outputTokensPerS / a1.result.outputTokensPerS - 1;
    out.push(`one replica, output tok/s precise vs approximate ${(100 * gain).toFixed(1)}% (target >= +20%): ${gain >= 0.2 ? 'met' : 'not met'}`);
  } else out.push('one-replica targets: approximate or precise run missing');
  const p3 = find(runs, 'precise', 3);
  if (p1 && p3) {
    const slow = p3.result.ttft.p90 / p1.result.ttft.p90;
    out.push(`precise, TTFT p90 3 replicas / 1 = ${formatMs(p3.result.ttft.p90)} / ${formatMs(p1.result.ttft.p90)} ms = ${ratio(slow)} (target <= 1.2x): ${slow <= 1.2 ? 'met' : 'not met'}`);
    const drop = 100 * (p1.prefixHitRate - p3.prefixHitRate);
    out.push(`precise, hit % 3 replicas vs 1: ${pct(p3.prefixHitRate)} vs ${pct(p1.prefixHitRate)} (${drop >= 0 ? '-' : '+'}${Math.abs(drop).toFixed(1)} points; target within 2): ${Math.abs(drop) <= 2 || drop < 0 ? 'met' : 'not met'}`);
  } else out.push('three-replica targets: precise 1- or 3-replica run missing');
  return out;
}
