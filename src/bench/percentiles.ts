/** Latency summaries: nearest-rank percentiles and the mean of a list of milliseconds. */

/** Milliseconds; every field is NaN when nothing was measured (e.g. TTFT of a non-streamed run). */
export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
}

/** Nearest-rank percentile of ascending `sorted` (p in (0, 1]). */
function rank(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
}

/** Sorts a copy; NaN entries are ignored. */
export function percentiles(values: readonly number[]): Percentiles {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { p50: NaN, p90: NaN, p99: NaN, mean: NaN };
  let sum = 0;
  for (const v of sorted) sum += v;
  return { p50: rank(sorted, 0.5), p90: rank(sorted, 0.9), p99: rank(sorted, 0.99), mean: sum / sorted.length };
}
