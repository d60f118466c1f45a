/** The scheduling scenario's reading of its runs: which rates a policy sustains, load balance, and the targets. */
import type { RunResult } from '../../../src/bench/run-bench.js';
import { formatMs } from '../../../src/bench/report-markdown.js';

/** One measured run and what the scenario read beside it. */
export interface Run {
  policy: string;
  rate: number;
  result: RunResult;
  /** Prompt tokens served from the replicas' prefix caches during the measured part, in [0, 1]. */
  prefixHitRate: number;
}

/** "Sustains" (stated in docs/benchmarks.md): every request succeeded, ... */
export const SUSTAIN_SUCCESS = 1;
/**
 * ... req/s (successes over first request to last answer) is at least 90% of the offered rate: the last
 * requests' decoding stretches a 20 s run by 0.5-1.5 s even unloaded, so 95% would fail an idle fleet, ...
 */
export const SUSTAIN_RATE_FRACTION = 0.9;
/** ... and TTFT p90 stays under 2 s, five times an uncached 4,000-token prefill at 0.1 ms/token: no growing queue. */
export const SUSTAIN_TTFT_P90_MS = 2000;

export function sustains(r: RunResult, offered: number): boolean {
  return r.successRate >= SUSTAIN_SUCCESS && r.rps >= SUSTAIN_RATE_FRACTION * offered && r.ttft.p90 <= SUSTAIN_TTFT_P90_MS;
}

/** The busiest replica's successes over an even split across `replicas`; NaN without successes. */
export function maxOverFair(r: RunResult, replicas: number): number {
  const counts = Object.values(r.perEndpoint);
  const total = counts.reduce((s, c) => s + c, 0);
  return total > 0 ? Math.max(...counts) / (total / replicas) : NaN;
}

/** Successes per replica, in the replicas' order (0 for one that served nothing). */
export function split(r: RunResult, backends: readonly string[]): string {
  return backends.map((b) => r.perEndpoint[b] ?? 0).join(' / ');
}

const pct = (v: number): string => (Number.isFinite(v) ? (100 * v).toFixed(1) : '-');

/** A compact table of the shared-prefix runs: the figures the targets are read from. */
export function summaryTable(runs: readonly Run[], backends: readonly string[]): string {
  const rows = runs.map((x) => {
    const r = x.result;
    return `| ${x.policy} | ${x.rate} | ${pct(r.successRate)} | ${r.rps.toFixed(1)} | ${r.outputTokensPerS.toFixed(0)} | ${formatMs(r.ttft.p50)} / ${formatMs(r.ttft.p90)} | ${pct(x.prefixHitRate)} | ${split(r, backends)} | ${sustains(r, x.rate) ? 'yes' : 'no'} |`;
  });
  return ['| policy | offered req/s | success % | req/s | output tok/s | TTFT p50 / p90 ms | prefix-cache hit % | requests per replica | sustains |', '|---|---:|---:|---:|---:|---:|---:|---|---|', ...rows].join('\n');
}

/** The uniform (no shared prefix) runs: how evenly each policy spread them. */
export function balanceTable(runs: readonly Run[], backends: readonly string[]): string {
  const rows = runs.map((x) => `| ${x.policy} | ${x.rate} | ${pct(x.result.successRate)} | ${formatMs(x.result.ttft.p90)} | ${split(x.result, backends)} | ${maxOverFair(x.result, backends.length).toFixed(2)} |`);
  return ['| policy | offered req/s | success % | TTFT p90 ms | requests per replica | max / fair share |', '|---|---:|---:|---:|---|---:|', ...rows].join('\n');
}

export const ROUND_ROBIN = 'Service round-robin';
export const DEFAULT_PROFILE = 'infergate default profile';

/** The three targets, read from the runs; lines of text, each saying met / not met with its numbers. */
export function targets(shared: readonly Run[], uniform: readonly Run[], replicas: number): string[] {
  const out: string[] = [];
  const of = (policy: string, rate: number): Run | undefined => shared.find((x) => x.policy === policy && x.rate === rate);
  const rates = [...new Set(shared.map((x) => x.rate))].sort((a, b) => a - b);
  const rrSustained = rates.filter((rate) => {
    const x = of(ROUND_ROBIN, rate);
    return x !== undefined && sustains(x.result, rate);
  });
  const top = rrSustained.at(-1);
  const rr = top === undefined ? undefined : of(ROUND_ROBIN, top);
  const dp = top === undefined ? undefined : of(DEFAULT_PROFILE, top);
  if (!rr || !dp) out.push('TTFT p90 >= 5x lower than round-robin: not evaluated (round-robin sustained none of the rates run, or a policy was skipped)');
  else {
    const ratio = rr.result.ttft.p90 / dp.result.ttft.p90;
    out.push(`TTFT p90 >= 5x lower than round-robin at ${top} req/s, the highest rate round-robin sustains: ${ratio >= 5 ? 'MET' : 'NOT MET'} (${formatMs(rr.result.ttft.p90)} ms -> ${formatMs(dp.result.ttft.p90)} ms, ${ratio.toFixed(1)}x)`);
  }
  const last = rates.at(-1);
  const rrTop = last === undefined ? undefined : of(ROUND_ROBIN, last);
  const dpTop = last === undefined ? undefined : of(DEFAULT_PROFILE, last);
  if (!rrTop || !dpTop) out.push('throughput >= +30%: not evaluated');
  else {
    const gain = dpTop.result.outputTokensPerS / rrTop.result.outputTokensPerS - 1;
    out.push(`output throughput >= +30% over round-robin at ${last} req/s offered (the highest rate run): ${gain >= 0.3 ? 'MET' : 'NOT MET'} (${rrTop.result.outputTokensPerS.toFixed(0)} -> ${dpTop.result.outputTokensPerS.toFixed(0)} tok/s, ${(100 * gain).toFixed(0)}%; req/s ${rrTop.result.rps.toFixed(1)} -> ${dpTop.result.rps.toFixed(1)})`);
  }
  const u = uniform.find((x) => x.policy === DEFAULT_PROFILE);
  if (!u) out.push('no replica above 2x its fair share (uniform workload): not evaluated');
  else {
    const m = maxOverFair(u.result, replicas);
    out.push(`no replica above 2x its fair share on the uniform workload at ${u.rate} req/s: ${m <= 2 ? 'MET' : 'NOT MET'} (busiest replica ${m.toFixed(2)}x fair)`);
  }
  return out;
}
