/** A benchmark's results as one Markdown table, a row per run. */
import type { Load, RunResult } from './run-bench.js';

/** Milliseconds at a precision that suits their size; '-' when not measured. */
export function formatMs(v: number): string {
  if (!Number.isFinite(v)) return '-';
  return v >= 1000 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function formatRate(v: number): string {
  if (!Number.isFinite(v)) return '-';
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

function percent(v: number | null): string {
  return v === null || !Number.isFinite(v) ? '-' : (100 * v).toFixed(1);
}

function describeLoad(load: Load): string {
  return load.kind === 'open' ? `open ${load.rate} req/s` : `closed c=${load.concurrency}`;
}

/** A pipe in a label would end its cell early. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

const HEADER = [
  'label', 'load', 'requests', 'success %', 'attempts/success', 'routing accuracy %', 'req/s', 'output tok/s',
  'TTFT p50 / p90 / p99 ms', 'TPOT p50 / p99 ms', 'ITL p50 / p99 ms', 'e2e p50 / p99 ms',
];
const ALIGN = ['---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:'];

export function toMarkdownTable(results: readonly RunResult[]): string {
  const rows = results.map((r) => [
    cell(r.label),
    describeLoad(r.load),
    String(r.requests),
    percent(r.successRate),
    Number.isFinite(r.attemptsPerSuccess) ? r.attemptsPerSuccess.toFixed(2) : '-',
    percent(r.routingAccuracy),
    formatRate(r.rps),
    formatRate(r.outputTokensPerS),
    `${formatMs(r.ttft.p50)} / ${formatMs(r.ttft.p90)} / ${formatMs(r.ttft.p99)}`,
    `${formatMs(r.tpot.p50)} / ${formatMs(r.tpot.p99)}`,
    `${formatMs(r.itl.p50)} / ${formatMs(r.itl.p99)}`,
    `${formatMs(r.e2e.p50)} / ${formatMs(r.e2e.p99)}`,
  ]);
  return [HEADER, ALIGN, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** `label failures: HTTP 404 NotFoundError x3 (The model ... does not exist.), ...`, one line per run that had any. */
export function failureLines(results: readonly RunResult[]): string[] {
  return results.flatMap((r) => {
    const errors = Object.entries(r.errors);
    // The server's message says what to fix (which model, which limit); the key alone only counts.
    const said = (key: string): string => {
      const message = r.errorMessages[key];
      return message === undefined || message === '' ? '' : ` (${message.replaceAll('\n', ' ')})`;
    };
    return errors.length === 0 ? [] : [`${r.label} failures: ${errors.map(([k, n]) => `${k} x${n}${said(k)}`).join(', ')}`];
  });
}
