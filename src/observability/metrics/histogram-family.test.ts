import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { register } from './family.js';
import { HistogramFamily } from './histogram-family.js';
import { CounterFamily, GaugeFamily } from './value-family.js';
import { sample } from './test-fixtures.js';

test('a histogram counts a value in the first bucket whose bound is >= it, renders cumulative buckets, +Inf, sum and count', async () => {
  const reg = new Registry();
  const h = new HistogramFamily({ name: 'h_seconds', help: 'h', labelNames: ['k'], buckets: [0.1, 1, 10] });
  register(reg, h);
  const s = h.series('a');
  // [value, bucket it lands in (index into [0.1, 1, 10, +Inf])]
  const table: [number, number][] = [
    [0, 0],
    [0.1, 0],
    [0.10001, 1],
    [1, 1],
    [9.99, 2],
    [10, 2],
    [11, 3],
    [Number.NaN, -1],
    [Number.POSITIVE_INFINITY, -1],
  ];
  for (const [v] of table) s.observe(v);
  const want = [0, 0, 0, 0];
  for (const [, b] of table) if (b >= 0) want[b]!++;
  const text = await reg.metrics();
  let acc = 0;
  for (const [i, le] of ['0.1', '1', '10', '+Inf'].entries()) {
    acc += want[i]!;
    assert.equal(sample(text, 'h_seconds_bucket', { k: 'a', le }), acc, `le=${le}`);
  }
  assert.equal(sample(text, 'h_seconds_count', { k: 'a' }), 7, 'non-finite values are ignored');
  assert.ok(Math.abs(sample(text, 'h_seconds_sum', { k: 'a' })! - (0 + 0.1 + 0.10001 + 1 + 9.99 + 10 + 11)) < 1e-9);
});

test('families refuse bad names, le as a label, wrong label counts and unordered buckets; reset keeps handles', async () => {
  assert.throws(() => new CounterFamily({ name: 'bad-name', help: 'x' }), /invalid metric name/);
  assert.throws(() => new HistogramFamily({ name: 'h', help: 'x', labelNames: ['le'], buckets: [1] }), /invalid label name/);
  assert.throws(() => new HistogramFamily({ name: 'h', help: 'x', buckets: [2, 1] }), /buckets must increase/);
  const g = new GaugeFamily({ name: 'g', help: 'x', labelNames: ['a', 'b'] });
  assert.throws(() => g.series('only-one'), /takes 2 label value/);
  const reg = new Registry();
  register(reg, g);
  const s = g.series('x', 'y\n"z"');
  s.set(5);
  assert.match(await reg.metrics(), /^g\{a="x",b="y\\n\\"z\\""\} 5$/m, 'label values are escaped');
  reg.resetMetrics();
  s.inc();
  assert.equal(sample(await reg.metrics(), 'g', { a: 'x' }), 1);
});
