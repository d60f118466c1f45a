import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newRequestRecord, type RequestRecord } from '../request-record.js';
import { DashboardObserver, dashboardErrorCode, ttftSeconds } from './dashboard-observer.js';

const NOW = 1_700_000_000_000;

function record(fields: Partial<RequestRecord>): RequestRecord {
  const r = newRequestRecord('req-1', 'POST', '/v1/chat/completions', '127.0.75.9');
  r.startedAt = 1000;
  return Object.assign(r, fields);
}

const cases: { name: string; r: Partial<RequestRecord>; error: string | undefined; ttft: number | undefined }[] = [
  { name: 'a whole answer: TTFT is its end', r: { status: 200, endedAt: 1250 }, error: undefined, ttft: 0.25 },
  { name: 'a stream: TTFT is its first token event', r: { status: 200, stream: true, firstTokenAt: 1040, endedAt: 1900 }, error: undefined, ttft: 0.04 },
  { name: 'a stream without a token: no TTFT', r: { status: 200, stream: true, endedAt: 1900 }, error: undefined, ttft: undefined },
  { name: "the gateway's own error", r: { status: 404, errorCode: 'model_not_found', endedAt: 1001 }, error: 'model_not_found', ttft: undefined },
  { name: "a model server's error answer", r: { status: 500, endedAt: 1100 }, error: 'HTTP 500', ttft: undefined },
  { name: 'a client that left is no error, and untimed', r: { status: 200, clientGone: true, endedAt: 1100 }, error: undefined, ttft: undefined },
];

for (const c of cases) {
  test(`error code and TTFT: ${c.name}`, () => {
    const r = record(c.r);
    const error = dashboardErrorCode(r);
    assert.equal(error, c.error);
    assert.equal(ttftSeconds(r, error), c.ttft);
  });
}

test('ended() counts into the buckets and lists the request, newest first, without its id or client address', () => {
  const obs = new DashboardObserver({ historySeconds: 60, recent: 2, now: () => NOW });
  obs.ended(record({ model: 'a', status: 200, endedAt: 1100, pool: 'default/p', endpoint: '127.0.75.2:8000', attempts: 1 }));
  obs.ended(record({ model: 'b', status: 503, errorCode: 'no_healthy_endpoint', endedAt: 1002 }));
  obs.ended(record({ model: 'c', status: 200, stream: true, firstTokenAt: 1020, endedAt: 1300, usage: { promptTokens: 3, completionTokens: 7 } }));
  assert.equal(obs.total, 3);
  const t = obs.buckets.totals(NOW, 60);
  assert.equal(t.requests, 3);
  assert.deepEqual(t.errorCodes, [['no_healthy_endpoint', 1]]);
  const recent = obs.recent.list();
  assert.deepEqual(recent.map((r) => r.model), ['c', 'b'], 'capped at 2, newest first');
  assert.equal(recent[0]!.ttftMs, 20);
  assert.equal(recent[0]!.outputTokens, 7);
  assert.equal(recent[1]!.error, 'no_healthy_endpoint');
  const shown = JSON.stringify(recent);
  assert.ok(!shown.includes('req-1') && !shown.includes('127.0.75.9'), 'no request id or client address');
});

test('a model name as long as the body allows is clipped in the list', () => {
  const obs = new DashboardObserver({ now: () => NOW });
  obs.ended(record({ model: 'x'.repeat(100_000), status: 404, errorCode: 'model_not_found', endedAt: 1001 }));
  assert.ok(obs.recent.list()[0]!.model!.length <= 201);
});

test('without a clock given, a request counts in the second it ended: its wall-clock start plus its duration', () => {
  const obs = new DashboardObserver({ historySeconds: 60 });
  // Started 0.6 s before a second's end, took 0.5 s: ends in the same second; a 0.7 s one ends in the next.
  obs.ended(record({ startTime: NOW + 400, status: 200, endedAt: 1500 }));
  obs.ended(record({ startTime: NOW + 400, status: 200, endedAt: 1700 }));
  assert.equal(obs.recent.list()[0]!.at, NOW + 1100);
  assert.equal(obs.recent.list()[1]!.at, NOW + 900);
  const s = obs.buckets.series(NOW + 1500, 2);
  assert.deepEqual(s.requests, [1, 1], `${JSON.stringify(s)}`);
});
