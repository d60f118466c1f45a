/** Reports: the Markdown table, the SVG charts (well-formed enough to open) and the files written. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportCharts } from './report-charts.js';
import { writeReport } from './report-files.js';
import { runResult } from './report-fixtures.js';
import { toMarkdownTable } from './report-markdown.js';
import { toSvgBarChart, toSvgLineChart } from './report-svg.js';
import { linearAxis, logAxis } from './report-svg-axes.js';

/** Parse-ish checks: one root, balanced tags, no raw '<' or '&' in text. */
function assertWellFormedSvg(svg: string): void {
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'), 'starts with the svg root');
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `closing </${name}>`);
    else stack.push(name ?? '');
  }
  assert.deepEqual(stack, [], 'every tag closed');
  const text = svg.replace(/<[^>]*>/g, '');
  assert.doesNotMatch(text, /[<>]|&(?!(amp|lt|gt|quot|apos);)/, 'text is escaped');
  assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
}

test('toMarkdownTable: a header, an alignment row and one row per result; pipes escaped, unmeasured shown as -', () => {
  const table = toMarkdownTable([
    runResult({ label: 'a | b' }),
    runResult({ label: 'closed', load: { kind: 'closed', concurrency: 8 }, routingAccuracy: null, ttft: { p50: NaN, p90: NaN, p99: NaN, mean: NaN } }),
  ]);
  const lines = table.split('\n');
  assert.equal(lines.length, 4);
  const columns = (line: string): number => line.split(/(?<!\\)\|/).length - 2;
  assert.ok(lines.every((l) => columns(l) === 12), 'every row has the 12 columns');
  assert.match(lines[0] ?? '', /\| label \| load \| requests \| success % \| attempts\/success \| routing accuracy % \| req\/s \| output tok\/s \| TTFT p50 \/ p90 \/ p99 ms \| TPOT p50 \/ p99 ms \| ITL p50 \/ p99 ms \| e2e p50 \/ p99 ms \|/);
  assert.match(lines[2] ?? '', /^\| a \\\| b \| open 4 req\/s \| 100 \| 98\.0 \| 1\.00 \| 100\.0 \| 3\.9 \| 125 \| 25\.0 \/ 50\.0 \/ 75\.0 \| 5\.00 \/ 15\.0 \| 4\.00 \/ 12\.0 \| 180\.0 \/ 540\.0 \|$/);
  assert.match(lines[3] ?? '', /^\| closed \| closed c=8 \| .* \| - \| .* \| - \/ - \/ - \|/);
  assert.equal(toMarkdownTable([]).split('\n').length, 2);
});

test('toSvgLineChart: well-formed, one path per series, legend escaped, log scale and gaps handled', () => {
  const svg = toSvgLineChart({
    title: 'TTFT <p90> & rate',
    xLabel: 'req/s',
    yLabel: 'ms',
    series: [
      { name: 'infergate <b>&</b>', points: [[1, 20], [2, 25], [4, 60], [8, 400]] },
      { name: "round-robin 'svc'", points: [[8, 900], [1, 30], [2, NaN], [4, 120]] },
      { name: 'empty', points: [] },
    ],
  });
  assertWellFormedSvg(svg);
  assert.equal(svg.match(/<path /g)?.length, 3, 'one <path> per series');
  assert.ok(svg.includes('infergate &lt;b&gt;&amp;&lt;/b&gt;'));
  assert.ok(svg.includes('round-robin &apos;svc&apos;'));
  assert.ok(svg.includes('TTFT &lt;p90&gt; &amp; rate'));
  const gap = /<path d="(M[^"]*)"[^>]*stroke="#E69F00"/.exec(svg)?.[1] ?? '';
  assert.equal(gap.match(/M/g)?.length, 2, 'the NaN point breaks the line into two pieces');

  const log = toSvgLineChart({ title: 'log', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 's', points: [[1, 0], [2, 10], [3, 5000]] }] });
  assertWellFormedSvg(log);
  assert.ok(log.includes('>10k<'), 'decade ticks on the log scale');

  const empty = toSvgLineChart({ title: 'none', xLabel: 'x', yLabel: 'y', series: [] });
  assertWellFormedSvg(empty);
  assert.ok(empty.includes('no data'));

  // Replicas 1-3: the linear axis steps by 0.5; integerX keeps the whole-number ticks only.
  const xTicks = (svg: string): string[] => [...svg.matchAll(/<text x="[^"]*" y="382" text-anchor="middle" fill="#444">([^<]*)</g)].map((m) => m[1]!);
  const replicas = { title: 'r', xLabel: 'replicas', yLabel: 'ms', series: [{ name: 's', points: [[1, 70], [2, 70], [3, 69]] as [number, number][] }] };
  assert.deepEqual(xTicks(toSvgLineChart(replicas)), ['1', '1.5', '2', '2.5', '3']);
  assert.deepEqual(xTicks(toSvgLineChart({ ...replicas, integerX: true })), ['1', '2', '3']);
});

test('toSvgBarChart: a rect and a label per bar, escaped', () => {
  const svg = toSvgBarChart({ title: 'Per endpoint', yLabel: 'requests', bars: [{ label: 'pod <a>', value: 10 }, { label: 'b&c', value: 0 }, { label: 'c', value: 25.5 }] });
  assertWellFormedSvg(svg);
  assert.equal(svg.match(/<rect /g)?.length, 1 + 3, 'background + one bar each');
  assert.ok(svg.includes('pod &lt;a&gt;') && svg.includes('b&amp;c'));
  const many = toSvgBarChart({ title: 't', yLabel: 'y', bars: Array.from({ length: 12 }, (_, i) => ({ label: `10.0.0.${i}:8000`, value: i })) });
  assertWellFormedSvg(many);
  assert.ok(many.includes('rotate(-35'), 'many bars: slanted labels');
});

test('axes: round ticks that cover the data', () => {
  const cases: [number, number, number[]][] = [
    [0, 97, [0, 20, 40, 60, 80, 100]],
    [0.5, 8, [0, 2, 4, 6, 8]],
    [3, 3, [1, 2, 3, 4, 5]],
  ];
  for (const [min, max, ticks] of cases) assert.deepEqual(linearAxis(min, max).ticks, ticks, `${min}..${max}`);
  assert.deepEqual(logAxis(3, 40).ticks, [1, 2, 5, 10, 20, 50, 100]);
  assert.deepEqual(logAxis(3, 400).ticks, [1, 10, 100, 1000], 'three decades: powers of ten only');
});

test('writeReport: <name>.json, <name>.md with the table and image links, and the charts', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-report-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const results = [runResult({ label: 'r1', load: { kind: 'open', rate: 2 } }), runResult({ label: 'r2', load: { kind: 'open', rate: 4 }, ttft: { p50: NaN, p90: NaN, p99: NaN, mean: NaN } })];
  const charts = reportCharts(results, 'infergate', 'sweep');
  assert.deepEqual(charts.map((c) => c.file), ['sweep-ttft-p90-vs-rate.svg', 'sweep-throughput-vs-rate.svg']);
  const out = join(dir, 'nested');
  const written = writeReport(out, 'sweep', results, charts);
  assert.equal(written.length, 4);
  assert.deepEqual((await readdir(out)).sort(), ['sweep-throughput-vs-rate.svg', 'sweep-ttft-p90-vs-rate.svg', 'sweep.json', 'sweep.md']);
  const json = JSON.parse(await readFile(join(out, 'sweep.json'), 'utf8')) as { label: string; ttft: { p50: number | null } }[];
  assert.deepEqual(json.map((r) => r.label), ['r1', 'r2']);
  assert.equal(json[1]?.ttft.p50, null, 'NaN is written as null');
  const md = await readFile(join(out, 'sweep.md'), 'utf8');
  assert.match(md, /^# sweep\n/);
  assert.match(md, /\| r1 \|/);
  assert.match(md, /!\[sweep-ttft-p90-vs-rate\]\(sweep-ttft-p90-vs-rate\.svg\)/);
  // The fixture's runs each lost 2 requests to a 404: the causes are in the report, not only on the terminal.
  assert.match(md, /## Failures\n\n- r1 failures: HTTP 404 NotFoundError x2 \(The model `m` does not exist\.\)\n- r2 failures: HTTP 404 NotFoundError x2 \(The model `m` does not exist\.\)\n/);
  assertWellFormedSvg(await readFile(join(out, 'sweep-throughput-vs-rate.svg'), 'utf8'));
  assert.throws(() => writeReport(dir, 'x', results, [{ file: '../evil.svg', svg: '' }]), /bare names/);

  // A second report in the same folder keeps its own chart: the files were once the same name for every report.
  const single = reportCharts([runResult()], 'one', 'other');
  assert.deepEqual(single.map((c) => c.file), ['other-per-endpoint.svg']);
  writeReport(out, 'other', [runResult({ errors: {}, failures: 0 })], single);
  assert.doesNotMatch(await readFile(join(out, 'other.md'), 'utf8'), /Failures/);
  assert.equal((await readdir(out)).filter((f) => f.endsWith('.svg')).length, 3);
});
