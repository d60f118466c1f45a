/** The scheduling scenario's charts: TTFT p90, throughput and prefix-cache hits against rate, and the uniform run's balance. */
import type { ChartFile } from '../../../src/bench/report-files.js';
import type { RunResult } from '../../../src/bench/run-bench.js';
import { toSvgBarChart, toSvgLineChart, type LineSeries } from '../../../src/bench/report-svg.js';
import type { PolicySpec } from './scheduling-policies.js';
import { maxOverFair, type Run } from './scheduling-verdict.js';

/** Legend labels are cut at 24 characters: "infergate default profile" reads "infergate default". */
function legend(p: PolicySpec): string {
  return p.kind === 'infergate' ? `infergate ${p.short.replace(/^ig /, '')}` : p.name;
}

export function schedulingCharts(policies: readonly PolicySpec[], shared: readonly Run[], uniform: readonly Run[], replicas: number): ChartFile[] {
  const series = (f: (r: Run) => number): LineSeries[] =>
    policies.map((p) => ({ name: legend(p), points: shared.filter((x) => x.policy === p.name).map((x) => [x.rate, f(x)] as [number, number]) }));
  const of = (f: (r: RunResult) => number) => series((x) => f(x.result));
  const charts: ChartFile[] = [
    { file: 'scheduling-ttft-p90.svg', svg: toSvgLineChart({ title: 'TTFT p90 vs request rate (shared prefix)', xLabel: 'offered rate (req/s)', yLabel: 'TTFT p90 (ms)', series: of((r) => r.ttft.p90), logY: true }) },
    { file: 'scheduling-throughput.svg', svg: toSvgLineChart({ title: 'Output throughput vs request rate (shared prefix)', xLabel: 'offered rate (req/s)', yLabel: 'output tokens/s', series: of((r) => r.outputTokensPerS) }) },
    { file: 'scheduling-prefix-hits.svg', svg: toSvgLineChart({ title: 'Prompt tokens served from the prefix cache', xLabel: 'offered rate (req/s)', yLabel: 'prefix-cache hit %', series: series((x) => 100 * x.prefixHitRate) }) },
  ];
  if (uniform.length > 0) {
    const short = new Map(policies.map((p) => [p.name, p.short]));
    const bars = uniform.map((x) => ({ label: short.get(x.policy) ?? x.policy, value: maxOverFair(x.result, replicas) }));
    charts.push({ file: 'scheduling-uniform-balance.svg', svg: toSvgBarChart({ title: `Busiest replica / fair share, uniform workload at ${uniform[0]!.rate} req/s`, yLabel: 'max / fair share', bars }) });
  }
  return charts;
}
