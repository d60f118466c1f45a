/**
 * The precise-prefix scenario's charts (issue #14, part 5): approximate against precise by gateway replicas (table
 * mode) and by offered rate (the pressure modes' sweep), plus the four pickers on one gateway.
 */
import type { ChartFile } from '../../../src/bench/report-files.js';
import { toSvgBarChart, toSvgLineChart, type LineSeries } from '../../../src/bench/report-svg.js';
import type { PreciseRun } from './precise-prefix-verdict.js';
import { median, type PressureRun } from './precise-pressure-verdict.js';

const COMPARED = ['approximate', 'precise'] as const;

/**
 * Table mode: TTFT p90 (log scale) and prefix-cache hits against the number of gateway replicas, one line per
 * picker, and a bar per picker of the one-gateway runs (round-robin has no gateway: it is nginx straight to the
 * pods). Runs of a picker not compared by replicas are left out of the lines.
 */
export function replicaCharts(runs: readonly PreciseRun[]): ChartFile[] {
  const lines = (f: (r: PreciseRun) => number): LineSeries[] =>
    COMPARED.map((picker) => ({ name: picker, points: runs.filter((r) => r.picker === picker).map((r) => [r.replicas, f(r)] as [number, number]) }));
  const oneGateway = runs.filter((r) => r.replicas <= 1);
  return [
    {
      file: 'precise-prefix-replicas-ttft-p90.svg',
      svg: toSvgLineChart({ title: 'TTFT p90 vs gateway replicas, under KV pressure', xLabel: 'gateway replicas behind round-robin', yLabel: 'TTFT p90 (ms)', series: lines((r) => r.result.ttft.p90), logY: true, integerX: true }),
    },
    {
      file: 'precise-prefix-replicas-hits.svg',
      svg: toSvgLineChart({ title: 'Prompt tokens served from the pods\' prefix caches', xLabel: 'gateway replicas behind round-robin', yLabel: 'prefix-cache hit %', series: lines((r) => 100 * r.prefixHitRate), integerX: true }),
    },
    {
      file: 'precise-prefix-one-gateway-ttft-p90.svg',
      svg: toSvgBarChart({ title: 'TTFT p90 by picker, one gateway (round-robin: none)', yLabel: 'TTFT p90 (ms)', bars: oneGateway.map((r) => ({ label: r.picker, value: r.result.ttft.p90 })) }),
    },
  ];
}

/** One line per compared picker: `f` of its open-loop runs by offered rate, the median where a rate ran more than once. */
export function sweepLines(runs: readonly PressureRun[], f: (r: PressureRun) => number): LineSeries[] {
  return COMPARED.map((picker) => {
    const mine = runs.filter((r) => r.picker === picker && r.rate !== undefined);
    const rates = [...new Set(mine.map((r) => r.rate!))].sort((a, b) => a - b);
    return { name: picker, points: rates.map((rate) => [rate, median(mine.filter((r) => r.rate === rate).map(f))] as [number, number]) };
  });
}

/**
 * The sweep: TTFT p90 (log scale), output tokens/s and prefix-cache hits against the offered rate, one line per
 * picker; with `--repeat`, each point is the median of its runs.
 */
export function sweepCharts(runs: readonly PressureRun[]): ChartFile[] {
  const lines = (f: (r: PressureRun) => number): LineSeries[] => sweepLines(runs, f);
  const x = 'offered rate (req/s, Poisson)';
  return [
    { file: 'precise-prefix-sweep-ttft-p90.svg', svg: toSvgLineChart({ title: 'TTFT p90 vs offered rate, one gateway, under KV pressure', xLabel: x, yLabel: 'TTFT p90 (ms)', series: lines((r) => r.result.ttft.p90), logY: true }) },
    { file: 'precise-prefix-sweep-output-tokens.svg', svg: toSvgLineChart({ title: 'Output tokens/s vs offered rate, one gateway', xLabel: x, yLabel: 'output tokens/s', series: lines((r) => r.result.outputTokensPerS) }) },
    { file: 'precise-prefix-sweep-hits.svg', svg: toSvgLineChart({ title: 'Prefix-cache hits vs offered rate, one gateway', xLabel: x, yLabel: 'prefix-cache hit %', series: lines((r) => 100 * r.prefixHitRate) }) },
  ];
}
