/** parsePrometheusText: a table of lines to samples, the golden fixtures, and the allow-list's equivalence. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLabels } from '../../sim/prometheus-text.js';
import type { Sample } from './prometheus-parser.js';
import { parsePrometheusText } from './prometheus-parser.js';
import type { FixtureName } from './test-fixtures.js';
import { readFixture } from './test-fixtures.js';

interface Case {
  name: string;
  text: string;
  keep?: string[];
  /** Expected samples by name; names not listed must be absent. */
  samples: Record<string, Sample[]>;
  invalid?: number;
  /** Substring of the first issue's reason. */
  reason?: string;
}

const cases: Case[] = [
  { name: 'no labels', text: 'up 1\n', samples: { up: [{ labels: {}, value: 1 }] } },
  { name: 'empty label set', text: 'up{} 1\n', samples: { up: [{ labels: {}, value: 1 }] } },
  { name: 'labels', text: 'a{x="1",y="two"} 3.5\n', samples: { a: [{ labels: { x: '1', y: 'two' }, value: 3.5 }] } },
  { name: 'colons in the name', text: 'vllm:num_requests_waiting{model_name="m"} 4.0', samples: { 'vllm:num_requests_waiting': [{ labels: { model_name: 'm' }, value: 4 }] } },
  { name: 'trailing comma and blanks in labels', text: 'a{ x = "1" , } 2\n', samples: { a: [{ labels: { x: '1' }, value: 2 }] } },
  { name: 'blank between name and labels', text: 'a {x="1"} 2\n', samples: { a: [{ labels: { x: '1' }, value: 2 }] } },
  { name: 'tabs as blanks', text: 'a\t7\t1700000000000\n', samples: { a: [{ labels: {}, value: 7, timestampMs: 1700000000000 }] } },
  { name: 'leading blanks', text: '   a 1\n', samples: { a: [{ labels: {}, value: 1 }] } },
  {
    name: 'escaped quote, backslash and newline',
    text: 'a{p="C:\\\\models\\\\x",q="say \\"hi\\"",n="l1\\nl2"} 1\n',
    samples: { a: [{ labels: { p: 'C:\\models\\x', q: 'say "hi"', n: 'l1\nl2' }, value: 1 }] },
  },
  { name: 'unknown escape kept as written', text: 'a{p="\\d+"} 1\n', samples: { a: [{ labels: { p: '\\d+' }, value: 1 }] } },
  {
    name: 'commas and braces inside a quoted value',
    text: 'vllm:lora_requests_info{max_lora="2",running_lora_adapters="a,b",waiting_lora_adapters="{c}"} 1.7e+09\n',
    samples: { 'vllm:lora_requests_info': [{ labels: { max_lora: '2', running_lora_adapters: 'a,b', waiting_lora_adapters: '{c}' }, value: 1.7e9 }] },
  },
  { name: 'empty label value', text: 'a{x=""} 0\n', samples: { a: [{ labels: { x: '' }, value: 0 }] } },
  {
    name: 'NaN and infinities',
    text: 'a{k="1"} NaN\na{k="2"} +Inf\na{k="3"} -Inf\na{k="4"} Inf\na{k="5"} nan\n',
    samples: {
      a: [
        { labels: { k: '1' }, value: NaN },
        { labels: { k: '2' }, value: Infinity },
        { labels: { k: '3' }, value: -Infinity },
        { labels: { k: '4' }, value: Infinity },
        { labels: { k: '5' }, value: NaN },
      ],
    },
  },
  {
    name: 'exponents, signs and prometheus_client oddities',
    text: 'a 1.5e+09\nb -2E-3\nc 4.9716350976e+010\nd +7\ne .5\n',
    samples: {
      a: [{ labels: {}, value: 1.5e9 }],
      b: [{ labels: {}, value: -0.002 }],
      c: [{ labels: {}, value: 49716350976 }],
      d: [{ labels: {}, value: 7 }],
      e: [{ labels: {}, value: 0.5 }],
    },
  },
  { name: 'negative timestamp', text: 'a 1 -5\n', samples: { a: [{ labels: {}, value: 1, timestampMs: -5 }] } },
  { name: 'CRLF and blank lines', text: '\r\n\r\na 1\r\n  \r\nb{x="y"} 2\r\n', samples: { a: [{ labels: {}, value: 1 }], b: [{ labels: { x: 'y' }, value: 2 }] } },
  { name: 'BOM', text: '\uFEFFa 1\n', samples: { a: [{ labels: {}, value: 1 }] } },
  { name: 'no final newline', text: 'a 1\nb 2', samples: { a: [{ labels: {}, value: 1 }], b: [{ labels: {}, value: 2 }] } },
  { name: 'comments and OpenMetrics EOF', text: '# just a comment\n#HELP a x\na 1\n# EOF\n', samples: { a: [{ labels: {}, value: 1 }] } },
  { name: 'OpenMetrics exemplar ignored', text: 'a_bucket{le="1"} 3 # {trace_id="abc"} 0.5\n', samples: { a_bucket: [{ labels: { le: '1' }, value: 3 }] } },
  {
    name: 'histogram series keep their suffixes',
    text: 'h_bucket{le="0.1"} 1\nh_bucket{le="+Inf"} 2\nh_count 2\nh_sum 0.35\n',
    samples: {
      h_bucket: [
        { labels: { le: '0.1' }, value: 1 },
        { labels: { le: '+Inf' }, value: 2 },
      ],
      h_count: [{ labels: {}, value: 2 }],
      h_sum: [{ labels: {}, value: 0.35 }],
    },
  },
  { name: 'label named __proto__ stays a label', text: 'a{__proto__="x"} 1\n', samples: { a: [{ labels: JSON.parse('{"__proto__":"x"}') as Record<string, string>, value: 1 }] } },
  { name: 'allow-list drops other names', text: 'a 1\nb 2\nab 3\na_bucket 4\n', keep: ['a'], samples: { a: [{ labels: {}, value: 1 }] } },
  { name: 'allow-list does not inspect dropped lines', text: 'junk{ 1\na 1\n', keep: ['a'], samples: { a: [{ labels: {}, value: 1 }] }, invalid: 0 },
  { name: 'the same name again after another', text: 'a 1\nb 2\na 3\n', keep: ['a'], samples: { a: [{ labels: {}, value: 1 }, { labels: {}, value: 3 }] } },
  // Invalid lines: skipped and counted, the rest still read.
  { name: 'missing value', text: 'a{x="1"}\nb 1\n', samples: { b: [{ labels: {}, value: 1 }] }, invalid: 1, reason: 'missing value' },
  { name: 'value not a number', text: 'a abc\nb 1\n', samples: { b: [{ labels: {}, value: 1 }] }, invalid: 1, reason: 'not a number' },
  { name: 'hex-looking junk value', text: 'a 1.2.3\n', samples: {}, invalid: 1, reason: 'not a number' },
  { name: 'fractional timestamp', text: 'a 1 1.5\n', samples: {}, invalid: 1, reason: 'timestamp' },
  { name: 'extra token', text: 'a 1 2 3\n', samples: {}, invalid: 1, reason: 'after the timestamp' },
  { name: 'unquoted label value', text: 'a{x=1} 1\n', samples: {}, invalid: 1, reason: 'must be quoted' },
  { name: 'unterminated label value', text: 'a{x="1} 1\nb 2\n', samples: { b: [{ labels: {}, value: 2 }] }, invalid: 1, reason: 'unterminated' },
  { name: 'unterminated label set', text: 'a{x="1" 1\n', samples: {}, invalid: 1, reason: 'expected , or }' },
  { name: 'duplicate label', text: 'a{x="1",x="2"} 1\n', samples: {}, invalid: 1, reason: 'duplicate label x' },
  { name: 'name starting with a digit', text: '1a 1\n', samples: {}, invalid: 1, reason: 'expected a metric name' },
  { name: 'HTML', text: '<html>\n<body>oops</body>\n', samples: {}, invalid: 2 },
  { name: 'no blank before the value', text: 'a-1\n', samples: {}, invalid: 1, reason: 'expected a metric name, got "a-1"' },
];

describe('parsePrometheusText', () => {
  for (const c of cases) {
    test(c.name, () => {
      const exp = parsePrometheusText(c.text, c.keep ? { keep: new Set(c.keep) } : {});
      assert.deepEqual(Object.fromEntries(exp.samples), c.samples);
      assert.equal(exp.invalidLines, c.invalid ?? 0, JSON.stringify(exp.issues));
      if (c.reason) assert.match(exp.issues[0]?.reason ?? '', new RegExp(c.reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    });
  }

  test('HELP and TYPE are kept per family, HELP unescaped', () => {
    const exp = parsePrometheusText('# HELP a Line one\\nline two \\\\ done\n# TYPE a COUNTER\n# TYPE h histogram\na_total 1\n');
    assert.deepEqual(exp.families.get('a'), { help: 'Line one\nline two \\ done', type: 'counter' });
    assert.deepEqual(exp.families.get('h'), { type: 'histogram' });
  });

  test('issues name the line', () => {
    const exp = parsePrometheusText('a 1\n\nb x\n');
    assert.deepEqual(exp.issues, [{ line: 3, reason: 'b: value "x" is not a number' }]);
  });

  test('labels formatted by the simulator read back identically', () => {
    const labels = { model_name: 'org/m "quoted"', path: 'C:\\x\\y', multi: 'a\nb', list: 'x,y,,z' };
    const exp = parsePrometheusText(`m${formatLabels(labels)} 1.0\n`);
    assert.deepEqual(exp.samples.get('m'), [{ labels, value: 1 }]);
  });
});

describe('golden fixtures', () => {
  const fixtures: { file: FixtureName; samples: number; families: number; types: Record<string, string> }[] = [
    {
      file: 'vllm-recent.prom',
      samples: 476,
      families: 47,
      types: { 'vllm:kv_cache_usage_perc': 'gauge', 'vllm:time_to_first_token_seconds': 'histogram', 'vllm:prompt_tokens_total': 'counter', http_request_size_bytes: 'summary' },
    },
    { file: 'vllm-legacy.prom', samples: 106, families: 37, types: { 'vllm:gpu_cache_usage_perc': 'gauge', 'vllm:time_per_output_token_seconds': 'histogram' } },
    { file: 'sglang.prom', samples: 84, families: 21, types: { 'sglang:token_usage': 'gauge', 'sglang:e2e_request_latency_seconds': 'histogram' } },
  ];
  for (const f of fixtures) {
    test(`${f.file} parses without an invalid line`, () => {
      const exp = parsePrometheusText(readFixture(f.file));
      assert.equal(exp.invalidLines, 0, JSON.stringify(exp.issues));
      assert.equal([...exp.samples.values()].reduce((n, s) => n + s.length, 0), f.samples);
      assert.equal(exp.families.size, f.families);
      for (const [name, type] of Object.entries(f.types)) assert.equal(exp.families.get(name)?.type, type, name);
    });

    test(`${f.file}: an allow-list yields exactly the full parse's samples for those names`, () => {
      const text = readFixture(f.file);
      const full = parsePrometheusText(text);
      const names = [...full.samples.keys()].filter((_, i) => i % 3 === 0);
      const kept = parsePrometheusText(text, { keep: new Set(names) });
      assert.deepEqual([...kept.samples.keys()], names);
      for (const n of names) assert.deepEqual(kept.samples.get(n), full.samples.get(n), n);
    });
  }

  test('vllm-recent.prom: histogram buckets are cumulative and end at _count', () => {
    const exp = parsePrometheusText(readFixture('vllm-recent.prom'));
    const buckets = exp.samples.get('vllm:time_to_first_token_seconds_bucket')!.filter((s) => s.labels.engine === '0');
    assert.equal(buckets.length, 23);
    assert.equal(buckets.at(-1)!.labels.le, '+Inf');
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value);
    const count = exp.samples.get('vllm:time_to_first_token_seconds_count')!.find((s) => s.labels.engine === '0')!;
    assert.equal(buckets.at(-1)!.value, count.value);
  });

  test('malformed.prom: every bad line skipped and counted, the good ones read', () => {
    const exp = parsePrometheusText(readFixture('malformed.prom'));
    assert.equal(exp.invalidLines, 10, JSON.stringify(exp.issues, null, 1));
    assert.deepEqual(
      exp.issues.map((i) => i.line),
      [5, 8, 11, 13, 14, 15, 16, 20, 23, 26],
    );
    assert.deepEqual(exp.samples.get('vllm:num_requests_running'), [{ labels: { model_name: 'm', engine: '0' }, value: 6 }]);
    assert.deepEqual(exp.samples.get('vllm:num_requests_waiting'), [{ labels: { model_name: 'm', engine: '0' }, value: 2, timestampMs: 1725437515871 }]);
    assert.equal(exp.samples.get('vllm:kv_cache_usage_perc')?.length, 2);
    assert.equal(exp.samples.get('vllm:lora_requests_info')?.length, 2);
    assert.deepEqual(exp.samples.get('vllm:e2e_request_latency_seconds_sum'), [{ labels: { model_name: 'm' }, value: 7.25 }]);
    assert.equal(exp.samples.get('vllm:e2e_request_latency_seconds_bucket')?.length, 1);
  });
});
