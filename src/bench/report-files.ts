/** Writes a benchmark report to a folder: the raw results as JSON, a Markdown page, and its SVG charts. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { failureLines, toMarkdownTable } from './report-markdown.js';
import type { RunResult } from './run-bench.js';

export interface ChartFile {
  /** A bare file name such as `ttft-vs-rate.svg`, written inside the report folder. */
  file: string;
  svg: string;
}

/**
 * Writes `<name>.json` (the results; unmeasured NaN figures become null), `<name>.md` (the table, each run's
 * failures by cause, and the charts as images) and each chart, creating `dir` if needed. Synchronous, so a script can call it last without awaiting.
 * Returns the paths written.
 */
export function writeReport(dir: string, name: string, results: readonly RunResult[], charts: readonly ChartFile[] = []): string[] {
  for (const c of [name, ...charts.map((c) => c.file)]) {
    // A report writes inside its folder only.
    if (c === '' || basename(c) !== c || c === '.' || c === '..') throw new Error(`report file names must be bare names, got "${c}"`);
  }
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const write = (file: string, text: string): void => {
    const path = join(dir, file);
    writeFileSync(path, text);
    written.push(path);
  };
  write(`${name}.json`, `${JSON.stringify(results, null, 2)}\n`);
  const images = charts.map((c) => `![${c.file.replace(/\.svg$/, '')}](${encodeURI(c.file)})`);
  // The causes of failures too: a success rate without them sends the reader back to a terminal long closed.
  const failures = failureLines(results).flatMap((l) => [`- ${l}`]);
  const failureSection = failures.length === 0 ? [] : ['## Failures', '', ...failures, ''];
  write(`${name}.md`, [`# ${name}`, '', toMarkdownTable(results), '', ...failureSection, ...images.flatMap((i) => [i, ''])].join('\n'));
  for (const c of charts) write(c.file, c.svg);
  return written;
}
