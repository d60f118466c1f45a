/** The charts of a report: latency and throughput against the offered rate for a sweep, load balance for one run. */
import type { ChartFile } from './report-files.js';
import { toSvgBarChart, toSvgLineChart } from './report-svg.js';
import type { RunResult } from './run-bench.js';

/**
 * For open-loop runs at two or more rates: `<name>-ttft-p90-vs-rate.svg` (e2e p90 when not streamed) and
 * `<name>-throughput-vs-rate.svg` (achieved against offered); otherwise `<name>-per-endpoint.svg` for the last run.
 * The files carry the report's name, so reports written to one folder keep their own charts.
 */
export function reportCharts(results: readonly RunResult[], seriesName: string, name: string): ChartFile[] {
  const open = results.flatMap((r) => (r.load.kind === 'open' ? [{ rate: r.load.rate, r }] : []));
  if (open.length >= 2) {
    const streamed = open.some(({ r }) => Number.isFinite(r.ttft.p90));
    const latency = toSvgLineChart({
      title: streamed ? 'TTFT p90 vs request rate' : 'End-to-end latency p90 vs request rate',
      xLabel: 'offered request rate (req/s)',
      yLabel: streamed ? 'TTFT p90 (ms)' : 'e2e p90 (ms)',
      series: [{ name: seriesName, points: open.map(({ rate, r }) => [rate, streamed ? r.ttft.p90 : r.e2e.p90]) }],
    });
    const throughput = toSvgLineChart({
      title: 'Throughput vs request rate',
      xLabel: 'offered request rate (req/s)',
      yLabel: 'successful requests/s',
      series: [
        { name: 'achieved', points: open.map(({ rate, r }) => [rate, r.rps]) },
        { name: 'offered', points: open.map(({ rate }) => [rate, rate]) },
      ],
    });
    return [
      { file: `${name}-ttft-p90-vs-rate.svg`, svg: latency },
      { file: `${name}-throughput-vs-rate.svg`, svg: throughput },
    ];
  }
  const last = results.at(-1);
  if (last === undefined || Object.keys(last.perEndpoint).length === 0) return [];
  const bars = Object.entries(last.perEndpoint).map(([label, value]) => ({ label, value }));
  return [{ file: `${name}-per-endpoint.svg`, svg: toSvgBarChart({ title: `Successes per endpoint: ${last.label}`, yLabel: 'successful requests', bars }) }];
}
