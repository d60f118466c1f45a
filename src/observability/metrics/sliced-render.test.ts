import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Registry } from 'prom-client';
import { register } from './family.js';
import { HistogramFamily } from './histogram-family.js';
import { renderSliced, renderSlicedBody, type RenderSlices } from './sliced-render.js';
import { CounterFamily } from './value-family.js';

function registry(families: number): Registry {
  const reg = new Registry();
  for (let i = 0; i < families; i++) {
    const h = new HistogramFamily({ name: `h${i}_seconds`, help: `histogram ${i}`, labelNames: ['model_name'], buckets: [0.1, 1, 10] });
    register(reg, h);
    h.series('m-a').observe(0.5);
    h.series('m-"b"\n').observe(20);
    const c = new CounterFamily({ name: `c${i}_total`, help: `counter ${i}`, labelNames: ['code'] });
    register(reg, c);
    c.series('500').inc(3);
  }
  new Counter({ name: 'plain_total', help: 'a prom-client counter', labelNames: ['x'], registers: [reg] }).inc({ x: 'y' }, 2);
  new Gauge({ name: 'plain_gauge', help: 'a prom-client gauge', registers: [reg] }).set(7);
  return reg;
}

test('the sliced render is the same text as prom-client renders in one go', async () => {
  const reg = registry(3);
  const want = await reg.metrics();
  assert.equal(await renderSliced(reg, 0), want);
  assert.equal(await renderSliced(reg, 1e9), want);
  // The admin listener's bytes: the same text, a buffer per family.
  const body = await renderSlicedBody(reg, 0);
  assert.equal(Buffer.concat(body).toString('utf8'), want);
  assert.equal(body.length, reg.getMetricsAsArray().length + 1);
  assert.match(want, /h0_seconds_bucket\{le="\+Inf",model_name="m-\\"b\\"\\n"\} 1/);
});

test('a family of many series is formatted in chunks whose seams leave no trace in the text', async () => {
  const reg = new Registry();
  const h = new HistogramFamily({ name: 'big_seconds', help: 'many series', labelNames: ['model_name'], buckets: [0.1, 1, 10] });
  register(reg, h);
  // 6 lines per series: more than one chunk of samples, with seams inside a series.
  for (let i = 0; i < 300; i++) h.series(`model-${i}`).observe(i / 100);
  const empty = new CounterFamily({ name: 'empty_total', help: 'no series yet', labelNames: ['code'] });
  register(reg, empty);
  const stats: RenderSlices = { slices: 0, longestMs: 0 };
  assert.equal(await renderSliced(reg, 0, stats), await reg.metrics());
  assert.ok(stats.slices > 3, `expected the big family in several slices, got ${stats.slices}`);
});

test('past its slice the render lets the event loop serve other work before it goes on', async () => {
  const reg = registry(5);
  const families = reg.getMetricsAsArray().length;
  const order: string[] = [];
  const stats: RenderSlices = { slices: 0, longestMs: 0 };
  setImmediate(() => order.push('other work'));
  const done = renderSliced(reg, 0, stats).then(() => order.push('render done'));
  await done;
  assert.deepEqual(order, ['other work', 'render done']);
  // A zero slice yields after every family.
  assert.equal(stats.slices, families + 1);
});

test('within its slice the render runs in one turn', async () => {
  const reg = registry(5);
  const order: string[] = [];
  const stats: RenderSlices = { slices: 0, longestMs: 0 };
  setImmediate(() => order.push('other work'));
  const t0 = performance.now();
  await renderSliced(reg, 1e9, stats).then(() => order.push('render done'));
  const elapsed = performance.now() - t0;
  assert.deepEqual(order, ['render done']);
  assert.equal(stats.slices, 1);
  // One slice: the longest is the render itself, some time and no more than the call took.
  assert.ok(stats.longestMs > 0 && stats.longestMs <= elapsed, `longest slice ${stats.longestMs} ms, call ${elapsed} ms`);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, ['render done', 'other work']);
});
