/** HTTPRoute status as infergate reports it: which parent entries a route gets, with which conditions. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HTTPRoute, RouteRule } from '../../api/http-route.js';
import type { Resource } from '../../api/resource.js';
import { inferencePool } from '../../api/test-fixtures.js';
import { pool, route } from '../../route/test-fixtures.js';
import { buildSnapshot } from '../snapshot.js';
import { mergeParents, parentKey, type ParentStatusJson } from './pool-status.js';
import { desiredRouteParents, INFERGATE_CONTROLLER_NAME, type RouteStatusFacts } from './route-status.js';

const GW = 'gateway.networking.k8s.io';
const OK = 'Accepted=True/Accepted, ResolvedRefs=True/ResolvedRefs';

function summary(out: Map<string, ParentStatusJson[]>): Record<string, string[]> {
  const s: Record<string, string[]> = {};
  for (const [key, parents] of out) {
    s[key] = parents.map((p) => `${parentKey(p.parentRef, 'NS')} by ${p.controllerName}: ${p.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`).join(', ')}`);
  }
  return s;
}

function withSection(r: HTTPRoute, section: string): HTTPRoute {
  return { ...r, parentRefs: r.parentRefs.map((p) => ({ ...p, sectionName: section })) };
}

describe('desiredRouteParents', () => {
  const gemma = inferencePool('gemma').selects({ app: 'gemma' });
  const cases: { name: string; resources: Resource[]; extra?: Partial<Omit<RouteStatusFacts, 'snapshot'>>; want: Record<string, string[]> }[] = [
    {
      name: 'a route to an existing pool is Accepted and ResolvedRefs for its Gateway',
      resources: [gemma, route('r1').parent('infergate').rule(pool('gemma'))],
      want: { 'default/r1': [`${GW}/Gateway/default/infergate by ${INFERGATE_CONTROLLER_NAME}: ${OK}`] },
    },
    {
      name: 'a missing pool: still Accepted, ResolvedRefs False/BackendNotFound',
      resources: [route('r1').parent('infergate').rule(pool('missing'))],
      want: { 'default/r1': [`${GW}/Gateway/default/infergate by ${INFERGATE_CONTROLLER_NAME}: Accepted=True/Accepted, ResolvedRefs=False/BackendNotFound`] },
    },
    {
      name: 'a pool that exists but is invalid resolves (its own status says why)',
      resources: [route('r1').parent('infergate').rule(pool('broken'))],
      extra: { rejected: new Map([['InferencePool/default/broken', ['bad']]]) },
      want: { 'default/r1': [`${GW}/Gateway/default/infergate by ${INFERGATE_CONTROLLER_NAME}: ${OK}`] },
    },
    {
      name: 'a Service backendRef: ResolvedRefs False/InvalidKind',
      resources: [gemma, route('r1').parent('infergate').rule(pool('gemma'), { group: '', kind: 'Service', name: 'svc', namespace: 'default', weight: 1 })],
      want: { 'default/r1': [`${GW}/Gateway/default/infergate by ${INFERGATE_CONTROLLER_NAME}: Accepted=True/Accepted, ResolvedRefs=False/InvalidKind`] },
    },
    {
      name: 'two Gateway parents without --gateway-name: an entry each',
      resources: [gemma, route('r1').parent('a').parent('b').rule(pool('gemma'))],
      want: { 'default/r1': [`${GW}/Gateway/default/a by ${INFERGATE_CONTROLLER_NAME}: ${OK}`, `${GW}/Gateway/default/b by ${INFERGATE_CONTROLLER_NAME}: ${OK}`] },
    },
    {
      name: 'with --gateway-name b, only the entry for b',
      resources: [gemma, route('r1').parent('a').parent('b').rule(pool('gemma'))],
      extra: { gatewayName: 'b' },
      want: { 'default/r1': [`${GW}/Gateway/default/b by ${INFERGATE_CONTROLLER_NAME}: ${OK}`] },
    },
    {
      name: 'with the Gateways known, a parentRef to a Gateway of another controller is left to it',
      resources: [gemma, route('r1').parent('a').parent('theirs').rule(pool('gemma'))],
      extra: { servedGateways: new Set(['default/a']) },
      want: { 'default/r1': [`${GW}/Gateway/default/a by ${INFERGATE_CONTROLLER_NAME}: ${OK}`] },
    },
    {
      name: 'with --gateway-name other, nothing',
      resources: [gemma, route('r1').parent('a').rule(pool('gemma'))],
      extra: { gatewayName: 'other' },
      want: {},
    },
    {
      name: 'a parent of another kind is not infergate to report on',
      resources: [gemma, route('r1').parent('mesh', 'Service', '').rule(pool('gemma'))],
      want: {},
    },
    {
      name: 'a sectionName is kept in the parentRef',
      resources: [gemma, withSection(route('r1').parent('infergate').rule(pool('gemma')), 'http')],
      extra: { controllerName: 'example.com/x' },
      want: { 'default/r1': [`${GW}/Gateway/default/infergate#http by example.com/x: ${OK}`] },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(summary(desiredRouteParents({ snapshot: buildSnapshot(c.resources), ...c.extra })), c.want);
    });
  }
});

describe('route parents merged with what is there', () => {
  const ours = (name: string, status: 'True' | 'False'): ParentStatusJson => ({
    parentRef: { group: GW, kind: 'Gateway', namespace: 'default', name },
    controllerName: INFERGATE_CONTROLLER_NAME,
    conditions: [{ type: 'ResolvedRefs', status, reason: status === 'True' ? 'ResolvedRefs' : 'BackendNotFound', message: 'm' }],
  });
  const other: ParentStatusJson = { parentRef: { name: 'envoy-gw' }, controllerName: 'example.com/envoy', conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'x', lastTransitionTime: 'T0' }] };
  const isOurs = (existing: ParentStatusJson[]) => (k: string) => existing.some((p) => p.controllerName === INFERGATE_CONTROLLER_NAME && parentKey(p.parentRef, 'default') === k);

  test('other controllers keep their entries; ours get controllerName, observedGeneration and a transition time', () => {
    const next = mergeParents([other], [ours('a', 'True')], 'default', 3, isOurs([other]), 'T1');
    assert.deepEqual(next, [other, { ...ours('a', 'True'), conditions: [{ ...ours('a', 'True').conditions[0]!, observedGeneration: 3, lastTransitionTime: 'T1' }] }]);
  });

  test('an unchanged status keeps its lastTransitionTime and sends no write; a flip gets a new one', () => {
    const first = mergeParents([], [ours('a', 'True')], 'default', 1, () => false, 'T1')!;
    assert.equal(mergeParents(first, [ours('a', 'True')], 'default', 1, isOurs(first), 'T2'), undefined);
    const flipped = mergeParents(first, [ours('a', 'False')], 'default', 1, isOurs(first), 'T3')!;
    assert.equal(flipped[0]?.conditions[0]?.lastTransitionTime, 'T3');
  });

  test('an entry of ours for a parent no longer served is removed', () => {
    const existing = [other, { ...ours('gone', 'True') }];
    assert.deepEqual(mergeParents(existing, [], 'default', 1, isOurs(existing), 'T1'), [other]);
  });
});

test("a rule's filters, which infergate does not apply, are named in Accepted's message (the route is still served)", () => {
  const r = route('r1').parent('infergate').rule(pool('gemma')).rule(pool('gemma'));
  (r.rules[1] as RouteRule).filters = [{ type: 'URLRewrite', field: 'filters[0]' }, { type: 'RequestHeaderModifier', field: 'backendRefs[0].filters[0]' }];
  const out = desiredRouteParents({ snapshot: buildSnapshot([inferencePool('gemma').selects({ app: 'gemma' }), r]) });
  const accepted = out.get('default/r1')?.[0]?.conditions.find((c) => c.type === 'Accepted');
  assert.equal(accepted?.status, 'True');
  assert.equal(accepted?.message, 'infergate serves this route (2 rules); it does not apply the filters of rule 1 (URLRewrite, RequestHeaderModifier): requests matching them reach the pool as the client sent them');
});
