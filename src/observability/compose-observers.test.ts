import assert from 'node:assert/strict';
import { it } from 'node:test';
import { composeObservers } from './compose-observers.js';
import { newRequestRecord, type RequestObserver } from './request-record.js';

it('returns nothing for none and the observer itself for one', () => {
  const only: RequestObserver = { ended: () => undefined };
  assert.equal(composeObservers([]), undefined);
  assert.equal(composeObservers([undefined, only]), only);
});

it('calls each member in order, defines only the hooks a member has, and merges attempt headers', () => {
  const calls: string[] = [];
  const a: RequestObserver = { ended: () => calls.push('a.ended'), scheduled: () => calls.push('a.scheduled') };
  const b: RequestObserver = {
    tracesScheduling: () => true,
    ended: () => calls.push('b.ended'),
    attemptStarting: () => {
      calls.push('b.attempt');
      return { traceparent: 't' };
    },
  };
  const c = composeObservers([a, b])!;
  assert.equal(c.interTokenGap, undefined, 'nobody reads gaps: the data plane skips them');
  const r = newRequestRecord('id', 'POST', '/v1/completions', undefined);
  assert.equal(c.tracesScheduling!(r), true);
  assert.equal(composeObservers([a, { ended: () => undefined }])!.tracesScheduling, undefined, 'nobody reads scheduling traces: picks stay untraced');
  const attempt = { endpoint: 'x:1', startedAt: 0 };
  r.attemptLog.push(attempt);
  assert.deepEqual(c.attemptStarting!(r, attempt), { traceparent: 't' });
  c.scheduled!(r);
  c.ended(r);
  assert.deepEqual(calls, ['b.attempt', 'a.scheduled', 'a.ended', 'b.ended']);
});

it('asks for stage times when a member reads them (traces), and not otherwise', () => {
  const plain: RequestObserver = { ended: () => undefined };
  const traces: RequestObserver = { stageTimes: true, ended: () => undefined };
  assert.equal(composeObservers([plain, traces])!.stageTimes, true);
  assert.equal(composeObservers([plain, { ended: () => undefined }])!.stageTimes, undefined);
});
