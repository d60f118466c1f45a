/** RetrySchedule: doubling delays, the cap, and a success resetting them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetrySchedule } from './retry-schedule.js';

test('each failure in a row doubles the wait, up to the cap; a success makes the next attempt due at once', () => {
  const r = new RetrySchedule();
  assert.equal(r.due(0), true);
  const waits: number[] = [];
  for (let i = 0; i < 7; i++) {
    r.failed(10_000, 100, 1000);
    waits.push(r.nextAt - 10_000);
  }
  assert.deepEqual(waits, [100, 200, 400, 800, 1000, 1000, 1000]);
  assert.equal(r.due(10_999), false);
  assert.equal(r.due(11_000), true);
  r.succeeded();
  assert.equal(r.failures, 0);
  assert.equal(r.due(10_000), true);
  r.failed(20_000, 100, 1000);
  assert.equal(r.nextAt, 20_100, 'after a success the wait starts again from the base');
});

test('a pod failing for a very long time keeps a finite wait', () => {
  const r = new RetrySchedule();
  for (let i = 0; i < 5000; i++) r.failed(0, 1000, 5000);
  assert.equal(r.nextAt, 5000);
});
