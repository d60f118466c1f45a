import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../logger.js';
import { DroppedSpans } from './dropped-spans.js';

test('drops are said at once, then at most once a minute with the count since the last line; other counts are not drops', () => {
  const lines: string[] = [];
  let now = 1_000_000;
  const dropped = new DroppedSpans(createLogger('warn', (l) => lines.push(l)), () => now);
  const counter = dropped.meterProvider().getMeter('@opentelemetry/sdk-trace').createCounter('otel.sdk.processor.span.processed');
  counter.add(3, { 'otel.component.type': 'batching_span_processor' }); // exported: not a drop
  assert.equal(lines.length, 0);
  counter.add(1, { 'error.type': 'queue_full' });
  counter.add(1, { 'error.type': 'queue_full' });
  now += 30_000;
  counter.add(1, { 'error.type': 'queue_full' });
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /dropped_spans=1 dropped_total=1$/);
  now += 30_000;
  counter.add(1, { 'error.type': 'queue_full' });
  assert.equal(lines.length, 2);
  assert.match(lines[1]!, /dropped_spans=3 dropped_total=4$/);
  dropped.flush();
  assert.equal(lines.length, 2, 'nothing unsaid: flush adds no line');
  assert.equal(dropped.total, 4);
});
