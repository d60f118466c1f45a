/**
 * What the Prometheus metrics cost: per request, the MetricsObserver's calls (scheduled, each inter-token gap,
 * ended) for a whole answer and for a 64-token stream; per scrape, rendering `GET /metrics` with many label
 * sets. A program, not a test: prints nanoseconds per request and milliseconds per scrape.
 *
 *   npx tsc -p . && node dist/bench/metrics-observer.js [--requests 1000000] [--models 100]
 */
import { cpus, loadavg } from 'node:os';
import { GatewayMetrics } from '../src/observability/metrics/gateway-metrics.js';
import type { RequestRecord } from '../src/observability/request-record.js';
import type { RenderSlices } from '../src/observability/metrics/sliced-render.js';
import { benchArgs, positiveFlag } from './lib/bench-args.js';

const { values } = benchArgs({ options: { requests: { type: 'string', default: '1000000' }, models: { type: 'string', default: '100' } } });

const REQUESTS = positiveFlag(values, 'requests');
const MODELS = positiveFlag(values, 'models');
const GAPS = 64;

function record(i: number, stream: boolean): RequestRecord {
  const model = `model-${i % MODELS}`;
  return {
    requestId: 'r',
    startTime: 0,
    startedAt: 1000,
    method: 'POST',
    path: '/v1/chat/completions',
    model,
    targetModel: model,
    priority: i % 3,
    pool: `default/pool-${i % 4}`,
    attempts: 1,
    stream,
    requestBytes: 800,
    responseBytes: stream ? 9000 : 1500,
    scheduledAt: 1000.2,
    ...(stream ? { firstTokenAt: 1100, lastTokenAt: 1700 } : {}),
    tokenEvents: stream ? GAPS + 1 : 0,
    endedAt: 1710,
    status: 200,
    usage: { promptTokens: 200, completionTokens: stream ? GAPS : 40 },
    attemptLog: [],
  };
}

function run(stream: boolean): number {
  const m = new GatewayMetrics();
  const o = m.observer;
  const records = Array.from({ length: 4096 }, (_, i) => record(i, stream));
  const once = (i: number): void => {
    const r = records[i & 4095]!;
    o.scheduled(r);
    if (stream) for (let g = 0; g < GAPS; g++) o.interTokenGap(r, 0.01);
    o.ended(r);
  };
  for (let i = 0; i < 50_000; i++) once(i);
  const n = stream ? Math.ceil(REQUESTS / 8) : REQUESTS;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) once(i);
  return Number(process.hrtime.bigint() - t0) / n;
}

console.log(`MetricsObserver per request, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs, ${MODELS} models x 3 priorities`);
console.log(`  whole answer (scheduled + ended):              ${run(false).toFixed(0)} ns`);
console.log(`  stream of ${GAPS} tokens (+ ${GAPS} inter-token gaps):    ${run(true).toFixed(0)} ns`);

const m = new GatewayMetrics();
for (let i = 0; i < MODELS * 3; i++) {
  const r = record(i, i % 2 === 0);
  m.observer.scheduled(r);
  m.observer.ended(r);
}
await m.render();
const scrapes = 20;
const t0 = performance.now();
let bytes = 0;
const held: number[] = [];
for (let i = 0; i < scrapes; i++) {
  const slices: RenderSlices = { slices: 0, longestMs: 0 };
  bytes = 0;
  for (const b of (await m.renderBody(undefined, slices)).body) bytes += b.length;
  held.push(slices.longestMs);
}
const total = (performance.now() - t0) / scrapes;
const t1 = performance.now();
for (let i = 0; i < scrapes; i++) await m.registry.metrics();
const whole = (performance.now() - t1) / scrapes;
// What the admin listener did with prom-client's text before: its length, then its bytes, in one go.
const text = await m.registry.metrics();
const t2 = performance.now();
Buffer.byteLength(text);
Buffer.from(text, 'utf8');
const encode = performance.now() - t2;
console.log(`GET /metrics with ${MODELS * 3} request label sets: ${total.toFixed(1)} ms per render, ${(bytes / 1024).toFixed(0)} KiB`);
console.log(`  request thread held at once: longest ${Math.max(...held).toFixed(1)} ms (median over renders ${held.sort((a, b) => a - b)[held.length >> 1]!.toFixed(1)} ms); prom-client's own render in one go: ${whole.toFixed(1)} ms, then ${encode.toFixed(1)} ms to encode it`);
