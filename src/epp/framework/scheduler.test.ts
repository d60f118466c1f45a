/** Scheduler: the profile handler drives the profiles; hooks run once it settled, per profile, on that profile's pick. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../datastore/endpoint.js';
import type { EndpointStateHolder, Filter, Picker, Plugin, PreRequest, ResponseComplete, ResponseHeaders, SchedulingContext } from './plugin.js';
import type { ProfileHandler } from './profile-handler.js';
import type { CycleResult } from './run-cycle.js';
import { Scheduler, newSchedulingContext } from './scheduler.js';
import { SchedulingProfile } from './scheduling-profile.js';
import { context, endpoints, request } from './test-fixtures.js';

const [a, b] = endpoints(2) as [Endpoint, Endpoint];
const first: Picker = { type: 'test-picker', name: 'first', pick: (_c, list) => list[0] };
const only = (ep: Endpoint, name: string): Filter => ({ type: 'test-filter', name, filter: (_c, list) => list.filter((e) => e === ep) });

/** Records every hook call as `hook:profile-plugin:address`. */
function hooks(name: string, log: string[]): PreRequest & ResponseComplete & ResponseHeaders & EndpointStateHolder {
  return {
    type: 'test-hooks',
    name,
    preRequest: (_c: SchedulingContext, ep: Endpoint) => log.push(`pre:${name}:${ep.address}`),
    responseComplete: (_c: SchedulingContext, ep: Endpoint) => log.push(`done:${name}:${ep.address}`),
    responseHeaders: (_c: SchedulingContext, ep: Endpoint, set: (n: string, v: string) => void) => set(`x-${name}`, ep.address),
    forget: (address: string) => log.push(`forget:${name}:${address}`),
  };
}

/** Runs `decode`, then `prefill`; sends by `decode` (the shape a P/D handler would have). */
const twoStep: ProfileHandler = {
  type: 'test-handler',
  name: 'two-step',
  pickProfiles: (_c, profiles, results: ReadonlyMap<string, CycleResult>) => {
    if (results.size === 0) return [profiles.get('decode') as SchedulingProfile];
    if (results.size === 1) return [profiles.get('prefill') as SchedulingProfile];
    return [];
  },
  primaryProfile: () => 'decode',
};

function scheduler(log: string[], decodeFilter: Filter = only(a, 'decode-only-a')): Scheduler {
  const dh = hooks('dh', log);
  const ph = hooks('ph', log);
  const decode = new SchedulingProfile('decode', [{ plugin: decodeFilter }, { plugin: first }, { plugin: dh }]);
  const prefill = new SchedulingProfile('prefill', [{ plugin: only(b, 'prefill-only-b') }, { plugin: first }, { plugin: ph }]);
  const plugins = new Map<string, Plugin>([
    ['dh', dh],
    ['ph', ph],
    ['two-step', twoStep],
  ]);
  return new Scheduler({ profiles: new Map([['decode', decode], ['prefill', prefill]]), handler: twoStep, plugins });
}

describe('Scheduler', () => {
  test('runs the handler profiles in order and sends by the primary one; each profile hooks its own pick', () => {
    const log: string[] = [];
    const r = scheduler(log).schedule(context(), [a, b]);
    assert.equal(r.endpoint, a);
    assert.equal(r.primaryProfile, 'decode');
    assert.deepEqual([...r.results.keys()], ['decode', 'prefill']);
    assert.equal(r.results.get('prefill')?.endpoint, b);
    assert.deepEqual(log, [`pre:dh:${a.address}`, `pre:ph:${b.address}`]);
  });

  test('nothing picked: no hooks, and the filter that emptied the set is named with its profile', () => {
    const log: string[] = [];
    const none: Filter = { type: 'test-filter', name: 'nobody', filter: () => [] };
    const r = scheduler(log, none).schedule(context(), [a, b]);
    assert.equal(r.endpoint, undefined);
    assert.deepEqual(r.emptiedBy && [r.emptiedBy.profile, r.emptiedBy.filter.name], ['decode', 'nobody']);
    assert.deepEqual(log, []);
  });

  test('response hooks get the served endpoint for the primary profile, their own pick for the others', () => {
    const log: string[] = [];
    const s = scheduler(log);
    const ctx = context();
    const r = s.schedule(ctx, [a, b]);
    const headers: Record<string, string> = {};
    // After a failover the request was served by b, not the pick a.
    s.responseHeaders(ctx, r, b, (n, v) => (headers[n] = v));
    assert.deepEqual(headers, { 'x-dh': b.address, 'x-ph': b.address });
    log.length = 0;
    s.responseComplete(ctx, r, b);
    assert.deepEqual(log, [`done:dh:${b.address}`, `done:ph:${b.address}`]);
  });

  test('forget reaches every plugin holding endpoint state', () => {
    const log: string[] = [];
    scheduler(log).forget('10.0.0.9:8000');
    assert.deepEqual(log, ['forget:dh:10.0.0.9:8000', 'forget:ph:10.0.0.9:8000']);
  });

  test('a handler that reruns a profile is a bug, not a loop', () => {
    const loop: ProfileHandler = { ...twoStep, pickProfiles: (_c, p) => [p.get('decode') as SchedulingProfile] };
    const s = new Scheduler({ ...scheduler([]).config, handler: loop });
    assert.throws(() => s.schedule(context(), [a, b]), /ran profile decode twice/);
  });

  test('the trace is kept per profile when asked', () => {
    const r = scheduler([]).schedule(context(), [a, b], { trace: true });
    assert.equal(r.results.get('decode')?.trace?.picked, a.address);
  });

  test('newSchedulingContext gives each request its own state and one clock', () => {
    const x = newSchedulingContext(request(), 'ns/pool', { now: 5 });
    const y = newSchedulingContext(request(), 'ns/pool', { now: 5 });
    assert.notEqual(x.state, y.state);
    assert.equal(x.now, 5);
    assert.equal(x.pool, 'ns/pool');
  });
});
