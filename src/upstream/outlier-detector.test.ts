/** OutlierDetector: Envoy's consecutive-failure detectors, growing ejection times, the max ejection percent, and what /readyz shows. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { endpoint } from '../epp/framework/test-fixtures.js';
import type { Endpoint } from '../epp/datastore/endpoint.js';
import { DEFAULT_OUTLIER_DETECTION, type OutlierDetection } from './outlier-detection.js';
import { OutlierDetector, ejectedEndpoints, type AttemptOutcome, type EjectionEvent } from './outlier-detector.js';

const T0 = 1_000_000;
const ok: AttemptOutcome = { kind: 'success' };
const timeout: AttemptOutcome = { kind: 'local', code: 'UND_ERR_HEADERS_TIMEOUT' };
const refused: AttemptOutcome = { kind: 'local', code: 'ECONNREFUSED' };
const status = (s: number): AttemptOutcome => ({ kind: 'status', status: s });

function pool(n: number): { key: string; endpoints: Endpoint[] } {
  return { key: 'default/pool', endpoints: Array.from({ length: n }, (_, i) => endpoint(`10.0.0.${i + 1}`).build()) };
}

/** Records `outcomes` on the first endpoint, one per second from T0; returns the ejections they caused, by index. */
function run(outcomes: AttemptOutcome[], settings: Partial<OutlierDetection> = {}, size = 2): { ejectedAt: number[]; ep: Endpoint; events: EjectionEvent[] } {
  const events: EjectionEvent[] = [];
  const d = new OutlierDetector((e) => events.push(e));
  const p = pool(size);
  const ep = p.endpoints[0]!;
  const ejectedAt: number[] = [];
  outcomes.forEach((o, i) => {
    if (d.record(ep, p, { ...DEFAULT_OUTLIER_DETECTION, ...settings }, o, T0 + i * 1000)) ejectedAt.push(i);
  });
  return { ejectedAt, ep, events };
}

describe('consecutive failures eject', () => {
  const cases: { name: string; outcomes: AttemptOutcome[]; settings?: Partial<OutlierDetection>; ejectedAt: number[]; type?: string }[] = [
    { name: 'three timeouts in a row (consecutive_gateway_failure, default 3)', outcomes: [timeout, timeout, timeout], ejectedAt: [2], type: 'consecutive_gateway_failure' },
    { name: 'a success in between starts the count over', outcomes: [timeout, timeout, ok, timeout, timeout], ejectedAt: [] },
    { name: 'connect failures and 502/503/504 are gateway failures too', outcomes: [refused, status(503), status(504)], ejectedAt: [2], type: 'consecutive_gateway_failure' },
    { name: 'a 500 is not a gateway failure and breaks that run', outcomes: [timeout, timeout, status(500), timeout, timeout], ejectedAt: [4], type: 'consecutive_5xx' },
    { name: 'five 500s in a row (consecutive_5xx, default 5)', outcomes: [status(500), status(500), status(500), status(500), status(500)], ejectedAt: [4], type: 'consecutive_5xx' },
    { name: '4xx answers are successes', outcomes: [timeout, timeout, status(429), timeout, timeout], ejectedAt: [] },
    { name: 'consecutive_gateway_failure 0 turns it off; consecutive_5xx still counts timeouts', outcomes: Array<AttemptOutcome>(5).fill(timeout), settings: { consecutiveGatewayFailure: 0 }, ejectedAt: [4], type: 'consecutive_5xx' },
    { name: 'both off: never', outcomes: Array<AttemptOutcome>(8).fill(timeout), settings: { consecutiveGatewayFailure: 0, consecutive5xx: 0 }, ejectedAt: [] },
    { name: 'an ejected endpoint is not ejected again while it is out', outcomes: Array<AttemptOutcome>(6).fill(timeout), settings: { consecutiveGatewayFailure: 1 }, ejectedAt: [0] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = run(c.outcomes, c.settings);
      assert.deepEqual(r.ejectedAt, c.ejectedAt);
      if (c.type) assert.equal(r.ep.outlier.ejection?.type, c.type);
    });
  }

  test('the ejection says why, for how long, and is reported once', () => {
    const r = run([timeout, timeout, timeout]);
    const e = r.ep.outlier.ejection!;
    assert.equal(e.at, T0 + 2000);
    assert.equal(e.until, T0 + 2000 + 30_000, 'base_ejection_time 30 s');
    assert.match(e.detail, /^3 gateway failures in a row; last: UND_ERR_HEADERS_TIMEOUT$/);
    assert.equal(r.events.length, 1);
    assert.equal(r.events[0]!.pool, 'default/pool');
    assert.equal(r.ep.outlier.isEjected(e.until - 1), true);
    assert.equal(r.ep.outlier.isEjected(e.until), false, 'back by the clock, no sweep needed');
  });
});

describe('ejection time grows with each ejection in a row and shrinks while healthy', () => {
  const s: OutlierDetection = { ...DEFAULT_OUTLIER_DETECTION, consecutiveGatewayFailure: 1, baseEjectionTimeMs: 30_000, maxEjectionTimeMs: 100_000, intervalMs: 10_000 };
  // Each row: ms after the previous ejection ended at which the next failure comes -> its ejection time.
  const cases: { name: string; gaps: number[]; durations: number[] }[] = [
    { name: 'failing again as soon as it is back: 30, 60, 90 s, then capped at max_ejection_time', gaps: [0, 0, 0, 0], durations: [30_000, 60_000, 90_000, 100_000] },
    { name: 'one healthy interval takes one step off', gaps: [0, 0, 10_000], durations: [30_000, 60_000, 60_000] },
    { name: 'healthy long enough: back to the base', gaps: [0, 0, 0, 60_000], durations: [30_000, 60_000, 90_000, 30_000] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const d = new OutlierDetector();
      const p = pool(1);
      const ep = p.endpoints[0]!;
      let now = T0;
      const durations: number[] = [];
      for (const gap of c.gaps) {
        now = Math.max(now, ep.outlier.ejectedUntil) + gap;
        const e = d.record(ep, p, s, timeout, now);
        assert.ok(e, `ejected at +${now - T0} ms`);
        durations.push(e.until - e.at);
      }
      assert.deepEqual(durations, c.durations);
    });
  }

  test('max_ejection_time below base_ejection_time: the base wins (as Envoy)', () => {
    const r = run([timeout], { consecutiveGatewayFailure: 1, baseEjectionTimeMs: 30_000, maxEjectionTimeMs: 1000 });
    assert.equal(r.ep.outlier.ejection!.until - r.ep.outlier.ejection!.at, 30_000);
  });
});

describe('max_ejection_percent', () => {
  const cases: { name: string; size: number; percent: number; failing: number; ejected: number; overflow: number }[] = [
    { name: 'Envoy always allows one: 1 of 2 at 10%', size: 2, percent: 10, failing: 2, ejected: 1, overflow: 1 },
    { name: 'a single-endpoint pool: its endpoint may be ejected', size: 1, percent: 0, failing: 1, ejected: 1, overflow: 0 },
    { name: '10 endpoints at 20%: two, not three', size: 10, percent: 20, failing: 3, ejected: 2, overflow: 1 },
    { name: '100% may eject them all', size: 3, percent: 100, failing: 3, ejected: 3, overflow: 0 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const d = new OutlierDetector();
      const p = pool(c.size);
      const s = { ...DEFAULT_OUTLIER_DETECTION, consecutiveGatewayFailure: 1, maxEjectionPercent: c.percent };
      for (const ep of p.endpoints.slice(0, c.failing)) d.record(ep, p, s, timeout, T0);
      assert.equal(p.endpoints.filter((ep) => ep.outlier.isEjected(T0)).length, c.ejected);
      assert.equal(d.stats.ejectionsOverflow, c.overflow);
      assert.equal(d.stats.ejectionsEnforcedConsecutiveGatewayFailure, c.ejected);
    });
  }

  test('an endpoint held back by the percent is ejected by its next failure once there is room', () => {
    const d = new OutlierDetector();
    const p = pool(2);
    const [a, b] = p.endpoints as [Endpoint, Endpoint];
    const s = { ...DEFAULT_OUTLIER_DETECTION, consecutiveGatewayFailure: 1, maxEjectionPercent: 10, baseEjectionTimeMs: 1000 };
    d.record(a, p, s, timeout, T0);
    assert.equal(d.record(b, p, s, timeout, T0), undefined);
    assert.ok(d.record(b, p, s, timeout, T0 + 1000), 'a is back, so b may go');
  });
});

test('ejectedEndpoints lists what /readyz shows, only while ejected', () => {
  const d = new OutlierDetector();
  const p = pool(3);
  d.record(p.endpoints[1]!, p, { ...DEFAULT_OUTLIER_DETECTION, consecutiveGatewayFailure: 1 }, refused, T0);
  assert.deepEqual(ejectedEndpoints(p.endpoints, T0 + 5000), [
    { endpoint: '10.0.0.2:8000', pod: 'default/pod-10-0-0-2', type: 'consecutive_gateway_failure', reason: '1 gateway failure in a row; last: ECONNREFUSED', remaining_ms: 25_000, multiplier: 1 },
  ]);
  assert.deepEqual(ejectedEndpoints(p.endpoints, T0 + 30_000), []);
});

test('succeeded() ends the failure runs as a recorded success does (the request path calls it for answers below 500)', () => {
  const d = new OutlierDetector();
  const p = pool(2);
  const ep = p.endpoints[0]!;
  d.record(ep, p, DEFAULT_OUTLIER_DETECTION, timeout, T0);
  d.record(ep, p, DEFAULT_OUTLIER_DETECTION, timeout, T0 + 1);
  d.succeeded(ep);
  assert.equal(d.record(ep, p, DEFAULT_OUTLIER_DETECTION, timeout, T0 + 2), undefined, 'the run started over');
  assert.equal(d.record(ep, p, DEFAULT_OUTLIER_DETECTION, timeout, T0 + 3), undefined);
  assert.ok(d.record(ep, p, DEFAULT_OUTLIER_DETECTION, timeout, T0 + 4), 'three in a row after it eject');
});
