/** runCycle: filters in order, weighted totals, the picker, PreRequest on the pick, and the trace. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../datastore/endpoint.js';
import type { Filter, Picker, PreRequest, SchedulingContext, Scorer } from './plugin.js';
import { runCycle } from './run-cycle.js';
import { SchedulingProfile } from './scheduling-profile.js';
import { context, endpoints } from './test-fixtures.js';

const eps = endpoints(4);
const [a, b, c, d] = eps as [Endpoint, Endpoint, Endpoint, Endpoint];

function dropping(name: string, ...drop: Endpoint[]): Filter {
  return { type: 'test-filter', name, filter: (_ctx, list) => list.filter((e) => !drop.includes(e)) };
}
function scoring(name: string, byAddress: Record<string, number>): Scorer {
  return { type: 'test-scorer', name, score: (_ctx, list) => list.map((e) => byAddress[e.address] ?? 0) };
}
const maxPicker: Picker = {
  type: 'test-picker',
  name: 'max',
  pick: (_ctx, list, totals) => {
    let best = 0;
    for (let i = 1; i < list.length; i++) if ((totals[i] ?? 0) > (totals[best] ?? 0)) best = i;
    return list[best];
  },
};
function recorder(): PreRequest & { picked: Endpoint[] } {
  const picked: Endpoint[] = [];
  return { type: 'test-hook', name: 'hook', picked, preRequest: (_ctx: SchedulingContext, ep: Endpoint) => picked.push(ep) };
}

describe('runCycle', () => {
  test('totals are sum(weight x score) over the endpoints that passed every filter, in their order', () => {
    const profile = new SchedulingProfile('default', [
      { plugin: dropping('no-a', a) },
      { plugin: scoring('s1', { [b.address]: 1, [c.address]: 0.5, [d.address]: 0 }), weight: 2 },
      { plugin: scoring('s2', { [b.address]: 0, [c.address]: 1, [d.address]: 1 }) },
      { plugin: maxPicker },
    ]);
    const r = runCycle(profile, context(), eps);
    assert.deepEqual(r.scored, [b, c, d]);
    assert.deepEqual(Array.from(r.totals), [2, 2, 1]);
    assert.equal(r.endpoint, b);
    assert.equal(r.trace, undefined);
  });

  test('a filter that leaves nothing ends the cycle and is named; later filters and scorers do not run', () => {
    let scored = false;
    const spy: Scorer = { type: 't', name: 's', score: (_c, l) => ((scored = true), l.map(() => 1)) };
    const profile = new SchedulingProfile('default', [
      { plugin: dropping('first', a) },
      { plugin: dropping('emptier', b, c, d) },
      { plugin: dropping('never', a) },
      { plugin: spy },
      { plugin: maxPicker },
    ]);
    const r = runCycle(profile, context(), eps, { trace: true });
    assert.equal(r.endpoint, undefined);
    assert.equal(r.emptiedBy?.name, 'emptier');
    assert.equal(scored, false);
    assert.equal(r.trace?.emptiedBy, 'emptier');
    assert.deepEqual(
      r.trace?.filters.map((f) => [f.name, f.removed, f.remaining]),
      [
        ['first', [a.address], 3],
        ['emptier', [b.address, c.address, d.address], 0],
      ],
    );
  });

  test('no candidates: no pick, no filter blamed', () => {
    const r = runCycle(new SchedulingProfile('p', [{ plugin: dropping('f') }, { plugin: maxPicker }]), context(), []);
    assert.equal(r.endpoint, undefined);
    assert.equal(r.emptiedBy, undefined);
  });

  test('PreRequest hooks run on the pick only, and not when the caller runs them itself', () => {
    const hook = recorder();
    const profile = new SchedulingProfile('p', [{ plugin: scoring('s', { [c.address]: 1 }) }, { plugin: maxPicker }, { plugin: hook }]);
    runCycle(profile, context(), eps);
    assert.deepEqual(hook.picked, [c]);
    runCycle(profile, context(), eps, { runPreRequest: false });
    assert.deepEqual(hook.picked, [c]);
  });

  test("the trace carries what a scorer says its scores rest on; untraced, it is not asked", () => {
    let asked = 0;
    const noting: Scorer = {
      ...scoring('s', { [a.address]: 1 }),
      scoreNotes: () => {
        asked++;
        return { basis: 'approximate view', endpoints: { [b.address]: 'stream untrusted' } };
      },
    };
    const profile = new SchedulingProfile('p', [{ plugin: noting }, { plugin: scoring('quiet', {}) }, { plugin: maxPicker }]);
    runCycle(profile, context(), [a, b]);
    assert.equal(asked, 0);
    const t = runCycle(profile, context(), [a, b], { trace: true }).trace;
    assert.deepEqual(t?.scorers, [
      { name: 's', type: 'test-scorer', weight: 1, scores: [1, 0], basis: 'approximate view', notes: { [b.address]: 'stream untrusted' } },
      { name: 'quiet', type: 'test-scorer', weight: 1, scores: [0, 0] },
    ]);
  });

  test('the trace records raw scores, weights and totals per endpoint', () => {
    const profile = new SchedulingProfile('p', [{ plugin: scoring('s', { [a.address]: 0.5, [b.address]: 1 }), weight: 3 }, { plugin: maxPicker }]);
    const t = runCycle(profile, context(), [a, b], { trace: true }).trace;
    assert.deepEqual(t, {
      profile: 'p',
      candidates: [a.address, b.address],
      filters: [],
      scored: [a.address, b.address],
      scorers: [{ name: 's', type: 'test-scorer', weight: 3, scores: [0.5, 1] }],
      totals: [1.5, 3],
      picked: b.address,
    });
  });

  test('a picker with maxNumOfEndpoints above 1 returns the ranked fallbacks', () => {
    const ranked: Picker = { ...maxPicker, maxNumOfEndpoints: 2, pickRanked: (_ctx, list) => [list[1] as Endpoint, list[0] as Endpoint] };
    const r = runCycle(new SchedulingProfile('p', [{ plugin: ranked }]), context(), [a, b], { trace: true });
    assert.equal(r.endpoint, b);
    assert.deepEqual(r.ranked, [b, a]);
    assert.deepEqual(r.trace?.ranked, [b.address, a.address]);
  });
});

describe('SchedulingProfile', () => {
  test('needs exactly one picker', () => {
    assert.throws(() => new SchedulingProfile('p', []), /profile p needs exactly one picker, has none/);
    assert.throws(() => new SchedulingProfile('p', [{ plugin: maxPicker }, { plugin: { ...maxPicker, name: 'other' } }]), /has max, other/);
  });
  test('a scorer without weight counts once; a plugin cannot be listed twice', () => {
    const s = scoring('s', {});
    assert.equal(new SchedulingProfile('p', [{ plugin: s }, { plugin: maxPicker }]).scorers[0]?.weight, 1);
    assert.throws(() => new SchedulingProfile('p', [{ plugin: s }, { plugin: s }, { plugin: maxPicker }]), /listed twice/);
  });
});
