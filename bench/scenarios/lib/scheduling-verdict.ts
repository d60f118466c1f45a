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

/**
 * "Sustains" (stated in docs/benchmarks.md): every request succeeded; req/s (successes over the time from the
 * first request to the last answer) is at least 90% of the rate actually sent (requests / measured seconds: a
 * Poisson draw sends 112 rather than 120 requests in 15 s at 8 req/s), since the last requests' decoding
 * stretches a 15 s run by 3-6% even unloaded; and TTFT p90 is at most `ttftBoundMs`.
 */
const SUSTAIN_RATE_FRACTION = 0.9;
/** 1 s: 2.5x an uncached 4,000-token prefill at 0.1 ms/token, so queueing adds at most 1.5 prefills at p90. */
const SUSTAIN_TTFT_P90_MS = 1000;

function sustains(r: RunResult, seconds: number, ttftBoundMs = SUSTAIN_TTFT_P90_MS): boolean {
  return r.successRate === 1 && r.rps >= SUSTAIN_RATE_FRACTION * (r.requests / seconds) && r.ttft.p90 <= ttftBoundMs;
}

/** The busiest replica's successes over an even split across `replicas`; NaN without successes. */
export function maxOverFair(r: RunResult, replicas: number): number {
  const counts = Object.values(r.perEndpoint);
  const total = counts.reduce((s, c) => s + c, 0);
  return total > 0 ? Math.max(...counts) / (total / replicas) : NaN;
}

/** Successes per replica, in the replicas' order (0 for one that served nothing). */
function split(r: RunResult, backends: readonly string[]): string {
  return backends.map((b) => r.perEndpoint[b] ?? 0).join(' / ');
}

const pct = (v: number): string => (Number.isFinite(v) ? (100 * v).toFixed(1) : '-');

/** A compact table of the shared-prefix runs: the figures the targets are read from. */
export function summaryTable(runs: readonly Run[], backends: readonly string[], seconds: number): string {
  const rows = runs.map((x) => {
    const r = x.result;
    return `| ${x.policy} | ${x.rate} | ${pct(r.successRate)} | ${r.rps.toFixed(1)} | ${r.outputTokensPerS.toFixed(0)} | ${formatMs(r.ttft.p50)} / ${formatMs(r.ttft.p90)} | ${pct(x.prefixHitRate)} | ${split(r, backends)} | ${sustains(r, seconds) ? 'yes' : 'no'} |`;
  });
  return ['| policy | offered req/s | success % | req/s | output tok/s | TTFT p50 / p90 ms | prefix-cache hit % | requests per replica | sustains |', '|---|---:|---:|---:|---:|---:|---:|---|---|', ...rows].join('\n');
}

/** The uniform (no shared prefix) runs: how evenly each policy spread them. */
export function balanceTable(runs: readonly Run[], backends: readonly string[]): string {
  const rows = runs.map((x) => `| ${x.policy} | ${x.rate} | ${pct(x.result.successRate)} | ${formatMs(x.result.ttft.p90)} | ${split(x.result, backends)} | ${maxOverFair(x.result, backends.length).toFixed(2)} |`);
  return ['| policy | offered req/s | success % | TTFT p90 ms | requests per replica | max / fair share |', '|---|---:|---:|---:|---|---:|', ...rows].join('\n');
}

const ROUND_ROBIN = 'Service round-robin';
const DEFAULT_PROFILE = 'infergate default profile';

/** The highest rate at which `policy` sustains, with the TTFT bound given. */
function highestSustained(shared: readonly Run[], policy: string, seconds: number, ttftBoundMs: number): number | undefined {
  return shared
    .filter((x) => x.policy === policy && sustains(x.result, seconds, ttftBoundMs))
    .map((x) => x.rate)
    .sort((a, b) => a - b)
    .at(-1);
}

/** TTFT p90 of round-robin over the default profile's, at the highest rate round-robin sustains. */
function ttftTarget(shared: readonly Run[], seconds: number, ttftBoundMs: number): string {
  const top = highestSustained(shared, ROUND_ROBIN, seconds, ttftBoundMs);
  const rr = shared.find((x) => x.policy === ROUND_ROBIN && x.rate === top);
  const dp = shared.find((x) => x.policy === DEFAULT_PROFILE && x.rate === top);
  if (!rr || !dp) return `round-robin sustained none of the rates run (TTFT bound ${ttftBoundMs} ms), or the default profile was skipped: not evaluated`;
  const ratio = rr.result.ttft.p90 / dp.result.ttft.p90;
  return `${ratio >= 5 ? 'MET' : 'NOT MET'} at ${top} req/s, the highest rate round-robin sustains with TTFT p90 <= ${ttftBoundMs} ms: ${formatMs(rr.result.ttft.p90)} ms -> ${formatMs(dp.result.ttft.p90)} ms, ${ratio.toFixed(1)}x`;
}

/** The three targets, read from the runs; lines of text, each saying met / not met with its numbers. */
export function targets(shared: readonly Run[], uniform: readonly Run[], replicas: number, seconds: number): string[] {
  const out: string[] = [];
  out.push(`TTFT p90 >= 5x lower than round-robin: ${ttftTarget(shared, seconds, SUSTAIN_TTFT_P90_MS)}`);
  out.push(`(the same with a 2 s TTFT bound for "sustains": ${ttftTarget(shared, seconds, 2 * SUSTAIN_TTFT_P90_MS)})`);
  const last = [...new Set(shared.map((x) => x.rate))].sort((a, b) => a - b).at(-1);
  const rrTop = shared.find((x) => x.policy === ROUND_ROBIN && x.rate === last);
  const dpTop = shared.find((x) => x.policy === DEFAULT_PROFILE && x.rate === last);
  if (!rrTop || !dpTop) out.push('output throughput >= +30%: not evaluated');
  else {
    const gain = dpTop.result.outputTokensPerS / rrTop.result.outputTokensPerS - 1;
    out.push(`output throughput >= +30% over round-robin at ${last} req/s offered (the highest rate run): ${gain >= 0.3 ? 'MET' : 'NOT MET'} (${rrTop.result.outputTokensPerS.toFixed(0)} -> ${dpTop.result.outputTokensPerS.toFixed(0)} tok/s, ${gain >= 0 ? '+' : ''}${(100 * gain).toFixed(0)}%; req/s ${rrTop.result.rps.toFixed(1)} -> ${dpTop.result.rps.toFixed(1)})`);
  }
  const u = uniform.find((x) => x.policy === DEFAULT_PROFILE);
  if (!u) out.push('no replica above 2x its fair share on the uniform workload: not evaluated');
  else {
    const m = maxOverFair(u.result, replicas);
    out.push(`no replica above 2x its fair share on the uniform workload at ${u.rate} req/s: ${m <= 2 ? 'MET' : 'NOT MET'} (busiest replica ${m.toFixed(2)}x fair)`);
  }
  return out;
}
