import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ERROR_CODES, quantile, RequestBuckets, TTFT_BOUNDS_S } from './request-buckets.js';

const T0 = 1_700_000_000_000; // a whole second, ms since the epoch

test('counts requests, errors and TTFT per second, newest point last', () => {
  const b = new RequestBuckets(60);
  b.record(T0, undefined, 0.04);
  b.record(T0 + 999, 'model_not_found');
  b.record(T0 + 2000, undefined, 0.04);
  const s = b.series(T0 + 2500, 3);
  assert.deepEqual(s.t, [T0 / 1000, T0 / 1000 + 1, T0 / 1000 + 2]);
  assert.deepEqual(s.requests, [2, 0, 1]);
  assert.deepEqual(s.errors, [1, 0, 0]);
  assert.equal(s.ttftP50Ms[1], null, 'a second without timed requests has no TTFT');
  assert.ok(s.ttftP50Ms[0]! > 25 && s.ttftP50Ms[0]! <= 50, `p50 ${s.ttftP50Ms[0]} within the 25-50 ms bucket`);
});

test('a slot written a lap ago reads as empty, and is emptied before it is reused', () => {
  const b = new RequestBuckets(10);
  b.record(T0, 'no_healthy_endpoint', undefined);
  b.record(T0, undefined, 0.2);
  // Ten seconds later the same slot holds another second: nothing of the first may show or be added to.
  assert.deepEqual(b.series(T0 + 10_000, 10).requests, new Array(10).fill(0));
  b.record(T0 + 10_000);
  const totals = b.totals(T0 + 10_000, 10);
  assert.equal(totals.requests, 1);
  assert.equal(totals.errors, 0);
  assert.deepEqual(totals.errorCodes, []);
  assert.equal(totals.ttftP50Ms, null);
});

test('totals cover the window only, and list error codes largest first', () => {
  const b = new RequestBuckets(600);
  for (let i = 0; i < 5; i++) b.record(T0 - 120_000, 'model_not_found'); // two minutes before: outside a 60 s window
  for (let i = 0; i < 3; i++) b.record(T0, 'HTTP 500');
  b.record(T0 - 30_000, 'request_shed');
  b.record(T0 - 30_000);
  const minute = b.totals(T0, 60);
  assert.equal(minute.requests, 5);
  assert.equal(minute.errors, 4);
  assert.deepEqual(minute.errorCodes, [['HTTP 500', 3], ['request_shed', 1]]);
  assert.equal(b.totals(T0, 600).requests, 10);
});

test('steps sum whole seconds, and the window is capped at the ring', () => {
  const b = new RequestBuckets(30);
  for (let s = 0; s < 30; s++) b.record(T0 + s * 1000);
  const s = b.series(T0 + 29_000, 300, 10);
  assert.equal(s.stepS, 10);
  assert.deepEqual(s.requests, [10, 10, 10]);
});

test('quantiles interpolate inside a bucket as histogram_quantile does', () => {
  const hist = new Array<number>(TTFT_BOUNDS_S.length + 1).fill(0);
  assert.equal(quantile(hist, 0.5), undefined);
  const i = TTFT_BOUNDS_S.indexOf(0.1); // bucket (0.075, 0.1]
  hist[i] = 4;
  assert.equal(quantile(hist, 0.5), 0.075 + 0.025 * 0.5);
  hist[TTFT_BOUNDS_S.length] = 100; // beyond the last bound: the answer is that bound
  assert.equal(quantile(hist, 0.99), TTFT_BOUNDS_S[TTFT_BOUNDS_S.length - 1]);
});

test('error codes beyond the cap count as other', () => {
  const b = new RequestBuckets(5);
  for (let i = 0; i < MAX_ERROR_CODES + 10; i++) b.record(T0, `code_${i}`);
  const codes = new Map(b.totals(T0, 5).errorCodes);
  assert.equal(codes.size, MAX_ERROR_CODES + 1);
  assert.equal(codes.get('other'), 10);
});

test('the capacity must be a positive whole number of seconds', () => {
  assert.throws(() => new RequestBuckets(0), RangeError);
});
