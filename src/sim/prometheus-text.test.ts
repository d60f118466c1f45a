/** Golden-text tests for the Prometheus counter, gauge and histogram helpers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, formatLabels, formatValue, gaugeText } from './prometheus-text.js';

test('formatValue and formatLabels follow the text format', () => {
  const values: Array<[number, string]> = [
    [0, '0.0'],
    [3, '3.0'],
    [0.25, '0.25'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ];
  for (const [n, want] of values) assert.equal(formatValue(n), want);
  assert.equal(formatLabels({}), '');
  assert.equal(formatLabels({ a: 'x', b: 'say "hi"\\\n' }), '{a="x",b="say \\"hi\\"\\\\\\n"}');
});

test('counter, gauge and histogram render HELP, TYPE and samples', () => {
  const c = new Counter('t:requests_total', 'Requests.');
  c.inc({ reason: 'stop' });
  c.inc({ reason: 'stop' }, 2);
  c.inc({ reason: 'length' }, 0);
  assert.throws(() => c.inc({ reason: 'stop' }, -1), RangeError);
  assert.equal(
    c.render(),
    '# HELP t:requests_total Requests.\n# TYPE t:requests_total counter\n' +
      't:requests_total{reason="stop"} 3.0\nt:requests_total{reason="length"} 0.0\n',
  );

  assert.equal(gaugeText('t:up', 'Up.', [[{}, 1]]), '# HELP t:up Up.\n# TYPE t:up gauge\nt:up 1.0\n');

  const h = new Histogram('t:latency_seconds', 'Latency.', [0.1, 1]);
  h.observe({ m: 'a' }, 0.05);
  h.observe({ m: 'a' }, 0.5);
  h.observe({ m: 'a' }, 5);
  assert.equal(
    h.render(),
    [
      '# HELP t:latency_seconds Latency.',
      '# TYPE t:latency_seconds histogram',
      't:latency_seconds_bucket{m="a",le="0.1"} 1.0',
      't:latency_seconds_bucket{m="a",le="1.0"} 2.0',
      't:latency_seconds_bucket{m="a",le="+Inf"} 3.0',
      't:latency_seconds_sum{m="a"} 5.55',
      't:latency_seconds_count{m="a"} 3.0',
      '',
    ].join('\n'),
  );
});
