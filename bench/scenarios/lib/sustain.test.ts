/** Tests for the sustain criterion: the send clock's bookkeeping, served / offered, and the sweep's highest sustained rate. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Workload } from '../../../src/bench/workload.js';
import { highestSustained, SendClock, servedRatio, sustains } from './sustain.js';

test('the send clock counts each request the workload hands out and times the window to the last one', () => {
  const clock = new SendClock(1000);
  assert.equal(clock.windowS, 0);
  clock.mark(1500);
  clock.mark(3000);
  assert.equal(clock.sent, 2);
  assert.equal(clock.windowS, 2);
});

test('a wrapped workload returns the same requests and marks each one', () => {
  const inner: Workload = { name: 'w', next: (i) => ({ path: '/v1/chat/completions', body: { i }, model: 'm' }) };
  const clock = new SendClock();
  const wrapped = clock.wrap(inner);
  assert.equal(wrapped.name, 'w');
  assert.deepEqual(wrapped.next(7, Math.random).body, { i: 7 });
  wrapped.next(8, Math.random);
  assert.equal(clock.sent, 2);
  assert.ok(clock.windowS >= 0);
});

test('served / offered and the sustain verdict', () => {
  const cases = [
    { name: 'kept up: last answer shortly after the last send', t: { sent: 300, successes: 300, windowS: 30, durationS: 30.6 }, ratio: 30 / 30.6, sustained: true },
    { name: 'backlog drained for 6 s after 30 s of arrivals', t: { sent: 300, successes: 300, windowS: 30, durationS: 36 }, ratio: 30 / 36, sustained: false },
    { name: 'one failure is not sustained, however fast', t: { sent: 300, successes: 299, windowS: 30, durationS: 30.2 }, ratio: (299 / 30.2) / 10, sustained: false },
    { name: 'nothing sent', t: { sent: 0, successes: 0, windowS: 0, durationS: 1 }, ratio: NaN, sustained: false },
    // 500-token answers take 8 s from first token to last: kept up, though the last answer comes 8.6 s after the last send.
    { name: 'long answers: their decoding is not backlog', t: { sent: 300, successes: 300, windowS: 30, durationS: 38.6, decodeS: 8 }, ratio: 30 / 30.6, sustained: true },
    { name: 'long answers behind a 6 s backlog', t: { sent: 300, successes: 300, windowS: 30, durationS: 44, decodeS: 8 }, ratio: 30 / 36, sustained: false },
  ];
  for (const c of cases) {
    const r = servedRatio(c.t);
    if (Number.isNaN(c.ratio)) assert.ok(Number.isNaN(r), c.name);
    else assert.ok(Math.abs(r - c.ratio) < 1e-9, `${c.name}: ${r}`);
    assert.equal(sustains(c.t), c.sustained, c.name);
  }
  assert.equal(sustains({ sent: 300, successes: 300, windowS: 30, durationS: 36 }, 0.8), true, 'the threshold is a parameter');
});

test('the highest sustained rate stops at the first failure, in rate order', () => {
  assert.equal(highestSustained([]), undefined);
  assert.equal(highestSustained([{ rate: 12, sustained: false }]), undefined);
  assert.equal(highestSustained([{ rate: 24, sustained: true }, { rate: 12, sustained: true }, { rate: 36, sustained: false }]), 24);
  assert.equal(highestSustained([{ rate: 12, sustained: true }, { rate: 24, sustained: false }, { rate: 36, sustained: true }]), 12, 'a pass past the knee is noise');
  assert.equal(highestSustained([{ rate: 12, sustained: true }, { rate: 24, sustained: true }]), 24);
});
