/** The staleness policy of flow control's gate, table-driven: stale metrics never halt an all-stale pool. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOW, endpoint, type EndpointBuilder } from '../epp/framework/test-fixtures.js';
import { UtilizationDetector, type StalenessPolicy } from '../epp/plugins/utilization-detector.js';
import { ConcurrencyDetector } from './concurrency-detector.js';
import { readGate } from './saturation-gate.js';

const ep = (i: number, set: (b: EndpointBuilder) => EndpointBuilder) => set(endpoint(`10.8.0.${i}`)).build();
const load = (waiting: number, ageMs = 0) => (b: EndpointBuilder) => b.metrics({ waitingQueueSize: waiting, kvCacheUsagePercent: 0, updatedAt: NOW - ageMs });
const none = (b: EndpointBuilder) => b;
const FULL = load(5);
const IDLE = load(0);
const STALE = load(0, 1000);

const cases: { name: string; policy: StalenessPolicy; eps: ((b: EndpointBuilder) => EndpointBuilder)[]; open: boolean; stale: number }[] = [
  { name: 'fresh and idle: open', policy: 'saturated', eps: [IDLE, IDLE], open: true, stale: 0 },
  { name: 'fresh and full: closed', policy: 'saturated', eps: [FULL, FULL], open: false, stale: 0 },
  { name: 'saturated policy: a stale endpoint counts as full', policy: 'saturated', eps: [FULL, STALE], open: false, stale: 1 },
  { name: 'ignore policy: a stale endpoint is left out', policy: 'ignore', eps: [IDLE, STALE], open: true, stale: 1 },
  { name: 'ignore policy: the fresh one still gates', policy: 'ignore', eps: [FULL, STALE], open: false, stale: 1 },
  { name: 'saturated policy, every endpoint stale: open (unknown, not halted)', policy: 'saturated', eps: [STALE, none], open: true, stale: 2 },
  { name: 'ignore policy, every endpoint stale: open', policy: 'ignore', eps: [STALE, STALE], open: true, stale: 2 },
  { name: 'no endpoints: closed', policy: 'saturated', eps: [], open: false, stale: 0 },
];

for (const c of cases) {
  test(`utilization gate: ${c.name}`, () => {
    const detector = new UtilizationDetector('u', { stalenessPolicy: c.policy });
    const r = readGate({ kind: 'utilization', detector }, c.eps.map((set, i) => ep(i + 1, set)), NOW, 0);
    assert.equal(r.open, c.open);
    assert.equal(r.stale, c.stale);
  });
}

test('concurrency gate: the larger of the endpoints\u2019 counts and what flow control dispatched', () => {
  const detector = new ConcurrencyDetector('c', 2);
  const eps = [ep(1, none), ep(2, none)];
  eps[0]!.inFlight = 3;
  assert.equal(readGate({ kind: 'concurrency', detector }, eps, NOW, 0).open, true, '3 of 4');
  assert.equal(readGate({ kind: 'concurrency', detector }, eps, NOW, 4).open, false, 'dispatched, not yet picked, counts');
  eps[1]!.inFlight = 1;
  assert.equal(readGate({ kind: 'concurrency', detector }, eps, NOW, 0).level, 1);
  assert.equal(readGate({ kind: 'concurrency', detector }, [], NOW, 0).open, false);
});
