/** InferencePool status as infergate reports it: which parent entries a pool gets, and how they merge with the ones already there. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HTTPRoute } from '../../api/http-route.js';
import type { Resource } from '../../api/resource.js';
import { inferencePool } from '../../api/test-fixtures.js';
import { pool, route } from '../../route/test-fixtures.js';
import { parseText, type LoadedFiles } from '../load-files.js';
import { poolYaml } from '../manifests.js';
import { buildSnapshot } from '../snapshot.js';
import { desiredPoolParents, mergeParents, parentKey, type ConditionJson, type ParentStatusJson, type PoolStatusFacts } from './pool-status.js';

const GW = 'gateway.networking.k8s.io';

function facts(resources: Resource[], extra: Partial<Omit<PoolStatusFacts, 'snapshot'>> = {}): PoolStatusFacts {
  return {
    snapshot: buildSnapshot(resources),
    rejected: new Map(),
    pickerProblems: new Map(),
    pickerOrigin: () => undefined,
    ...extra,
  };
}

/** A route builder's parentRef moved to another namespace (the builder puts parents in the route's own). */
function inNamespace(r: HTTPRoute, parent: string, namespace: string): HTTPRoute {
  return { ...r, parentRefs: r.parentRefs.map((p) => (p.name === parent ? { ...p, namespace } : p)) };
}

/** Pool key -> `parentKey: Type=Status/Reason, ...`, the part of the result each case pins down. */
function summary(out: Map<string, ParentStatusJson[]>): Record<string, string[]> {
  const s: Record<string, string[]> = {};
  for (const [poolKey, parents] of out) {
    s[poolKey] = parents.map((p) => `${parentKey(p.parentRef, 'POOL-NS')}: ${p.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`).join(', ')}`);
  }
  return s;
}

const ACCEPTED = 'Accepted=True/Accepted, ResolvedRefs=True/ResolvedRefs';

describe('desiredPoolParents', () => {
  const cases: { name: string; resources: Resource[]; extra?: Partial<Omit<PoolStatusFacts, 'snapshot'>>; want: Record<string, string[]> }[] = [
    {
      name: 'a valid pool reached by a route whose parent is Gateway infergate gets one accepted entry',
      resources: [inferencePool('gemma').selects({ app: 'gemma' }), route('r1').parent('infergate').rule(pool('gemma'))],
      want: { 'default/gemma': [`${GW}/Gateway/default/infergate: ${ACCEPTED}`] },
    },
    {
      name: 'with --gateway-name infergate, the same',
      resources: [inferencePool('gemma').selects({ app: 'gemma' }), route('r1').parent('infergate').rule(pool('gemma'))],
      extra: { gatewayName: 'infergate' },
      want: { 'default/gemma': [`${GW}/Gateway/default/infergate: ${ACCEPTED}`] },
    },
    {
      name: 'with --gateway-name other, a route to Gateway infergate gives nothing',
      resources: [inferencePool('gemma').selects({ app: 'gemma' }), route('r1').parent('infergate').rule(pool('gemma'))],
      extra: { gatewayName: 'other' },
      want: {},
    },
    {
      name: 'with --gateway-name, only that Gateway of a route with two is reported',
      resources: [inferencePool('gemma').selects({ app: 'gemma' }), route('r1').parent('infergate').parent('envoy').rule(pool('gemma'))],
      extra: { gatewayName: 'infergate' },
      want: { 'default/gemma': [`${GW}/Gateway/default/infergate: ${ACCEPTED}`] },
    },
    {
      name: 'a route whose parentRefs name no Gateway (a mesh Service) gives nothing',
      resources: [inferencePool('gemma').selects({ app: 'gemma' }), route('r1').parent('gemma-svc', 'Service', '').rule(pool('gemma'))],
      want: {},
    },
    {
      name: 'a Gateway kind in another group is not a Gateway',
      resources: [inferencePool('gemma').selects({ app: 'gemma' }), route('r1').parent('infergate', 'Gateway', 'example.com').rule(pool('gemma'))],
      want: {},
    },
    {
      name: 'a route with no parentRefs gives nothing',
      resources: [inferencePool('gemma').selects({ app: 'gemma' }), route('r1').rule(pool('gemma'))],
      want: {},
    },
    {
      name: 'a route naming a pool that does not exist at all gives nothing',
      resources: [inferencePool('gemma').selects({ app: 'gemma' }), route('r1').parent('infergate').rule(pool('missing'))],
      want: {},
    },
    {
      name: 'a pool no route reaches gets nothing',
      resources: [inferencePool('gemma').selects({ app: 'gemma' }), inferencePool('idle').selects({ app: 'idle' }), route('r1').parent('infergate').rule(pool('gemma'))],
      want: { 'default/gemma': [`${GW}/Gateway/default/infergate: ${ACCEPTED}`] },
    },
    {
      name: 'two routes and two Gateways: one entry per Gateway and pool, in the Gateway namespace',
      resources: [
        inferencePool('gemma').selects({ app: 'gemma' }),
        inferencePool('llama').selects({ app: 'llama' }),
        route('r1').parent('infergate').rule(pool('gemma')),
        inNamespace(route('r2').parent('infergate').parent('edge').rule(pool('gemma'), pool('llama')), 'edge', 'gw-system'),
      ],
      want: {
        'default/gemma': [`${GW}/Gateway/default/infergate: ${ACCEPTED}`, `${GW}/Gateway/gw-system/edge: ${ACCEPTED}`],
        'default/llama': [`${GW}/Gateway/default/infergate: ${ACCEPTED}`, `${GW}/Gateway/gw-system/edge: ${ACCEPTED}`],
      },
    },
    {
      name: 'a pool in another namespace, named by the backendRef, is keyed by its own namespace',
      resources: [inferencePool('gemma').inNamespace('llm').selects({ app: 'gemma' }), route('r1').parent('infergate').rule(pool('gemma', 1, 'llm'))],
      want: { 'llm/gemma': [`${GW}/Gateway/default/infergate: ${ACCEPTED}`] },
    },
    {
      name: 'a rejected pool (left out of the snapshot) gets Accepted=False NotSupportedByParent and nothing else',
      resources: [route('r1').parent('infergate').rule(pool('broken'))],
      extra: { rejected: new Map([['InferencePool/default/broken', ['spec.selector.matchLabels: required']]]) },
      want: { 'default/broken': [`${GW}/Gateway/default/infergate: Accepted=False/NotSupportedByParent`] },
    },
    {
      name: 'a pool whose EndpointPickerConfig has a problem gets ResolvedRefs=False InvalidExtensionRef',
      resources: [inferencePool('gemma').selects({ app: 'gemma' }), route('r1').parent('infergate').rule(pool('gemma'))],
      extra: { pickerProblems: new Map([['default/gemma', 'ConfigMap default/gemma-epp: unknown plugin type "nope"']]) },
      want: { 'default/gemma': [`${GW}/Gateway/default/infergate: Accepted=True/Accepted, ResolvedRefs=False/InvalidExtensionRef`] },
    },
    {
      name: 'a pool whose endpointPickerRef names a missing Service gets ResolvedRefs=False InvalidExtensionRef (GIE InferencePoolInvalidEPPService)',
      resources: [inferencePool('gemma').selects({ app: 'gemma' }).picker('non-existent-epp-svc'), route('r1').parent('infergate').rule(pool('gemma'))],
      extra: { pickerRef: () => ({ picker: 'missing', reason: 'spec.endpointPickerRef names Service default/non-existent-epp-svc, which does not exist' }) },
      want: { 'default/gemma': [`${GW}/Gateway/default/infergate: Accepted=True/Accepted, ResolvedRefs=False/InvalidExtensionRef`] },
    },
    {
      name: 'a ref to another existing Service (an external picker) resolves',
      resources: [inferencePool('gemma').selects({ app: 'gemma' }).picker('other-epp'), route('r1').parent('infergate').rule(pool('gemma'))],
      extra: { pickerRef: () => ({ picker: 'external', service: 'default/other-epp', address: { target: '10.96.0.12:9002', serviceHost: 'epp.default.svc', via: 'Service default/epp at its clusterIP 10.96.0.12, port.number' }, reason: 'spec.endpointPickerRef names Service default/other-epp' }) },
      want: { 'default/gemma': [`${GW}/Gateway/default/infergate: ${ACCEPTED}`] },
    },
    {
      name: 'a problem of another rejected object does not touch a valid pool',
      resources: [inferencePool('gemma').selects({ app: 'gemma' }), route('r1').parent('infergate').rule(pool('gemma'))],
      extra: { rejected: new Map([['InferencePool/default/other', ['bad']], ['HTTPRoute/default/gemma', ['bad']]]) },
      want: { 'default/gemma': [`${GW}/Gateway/default/infergate: ${ACCEPTED}`] },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(summary(desiredPoolParents(facts(c.resources, c.extra))), c.want);
    });
  }

  test('read from YAML: the parentRef gets group, kind and namespace filled in, and no lastTransitionTime yet', () => {
    const out: LoadedFiles = { files: [], resources: [], issues: [], warnings: [], readWarnings: [] };
    const routeYaml = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: gemma-route, namespace: llm}
spec:
  parentRefs: [{name: infergate}]
  rules:
    - backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: gemma}]
`;
    parseText('test.yaml', `${poolYaml('gemma', { app: 'gemma' }, 8000, 'llm')}---\n${routeYaml}`, out);
    assert.deepEqual(out.issues, []);
    const desired = desiredPoolParents(facts(out.resources, { pickerOrigin: (k) => (k === 'llm/gemma' ? 'ConfigMap llm/gemma-epp' : undefined) }));
    assert.deepEqual([...desired.keys()], ['llm/gemma']);
    const [entry, ...more] = desired.get('llm/gemma')!;
    assert.equal(more.length, 0);
    assert.deepEqual(entry!.parentRef, { group: GW, kind: 'Gateway', namespace: 'llm', name: 'infergate' });
    assert.deepEqual(
      entry!.conditions.map((c) => [c.type, c.status, c.reason]),
      [
        ['Accepted', 'True', 'Accepted'],
        ['ResolvedRefs', 'True', 'ResolvedRefs'],
      ],
    );
    assert.match(entry!.conditions[0]!.message, /HTTPRoute llm\/gemma-route\b/);
    assert.match(entry!.conditions[1]!.message, /ConfigMap llm\/gemma-epp/, 'ResolvedRefs says where the EndpointPickerConfig came from');
    for (const c of entry!.conditions) assert.equal(c.lastTransitionTime, undefined);
  });

  test('messages name every route that reaches the pool through that Gateway, the problem text and the picker problem', () => {
    const two = desiredPoolParents(
      facts([inferencePool('gemma').selects({ app: 'gemma' }), route('r2').parent('infergate').rule(pool('gemma')), route('r1').parent('infergate').rule(pool('gemma'))]),
    );
    assert.match(two.get('default/gemma')![0]!.conditions[0]!.message, /HTTPRoutes default\/r1, default\/r2$/);

    const rejected = desiredPoolParents(facts([route('r1').parent('infergate').rule(pool('broken'))], { rejected: new Map([['InferencePool/default/broken', ['spec.targetPorts: required', 'spec.selector: required']]]) }));
    const accepted = rejected.get('default/broken')![0]!.conditions;
    assert.equal(accepted.length, 1);
    assert.match(accepted[0]!.message, /HTTPRoute default\/r1\b.*spec\.targetPorts: required; spec\.selector: required/);

    const picker = desiredPoolParents(facts([inferencePool('gemma').selects({ app: 'gemma' }), route('r1').parent('infergate').rule(pool('gemma'))], { pickerProblems: new Map([['default/gemma', 'unknown plugin type "nope"']]) }));
    assert.equal(picker.get('default/gemma')![0]!.conditions[1]!.message, 'unknown plugin type "nope"');

    const resources = [inferencePool('gemma').selects({ app: 'gemma' }), route('r1').parent('infergate').rule(pool('gemma'))];
    const missing = desiredPoolParents(facts(resources, { pickerRef: () => ({ picker: 'missing', reason: 'spec.endpointPickerRef names Service default/gone, which does not exist' }) }));
    assert.match(missing.get('default/gemma')![0]!.conditions[1]!.message, /Service default\/gone, which does not exist; requests to this pool get 500 invalid_endpoint_picker_ref$/);
    const external = desiredPoolParents(facts(resources, { pickerRef: () => ({ picker: 'external', service: 'default/epp', address: { target: '10.96.0.12:9002', serviceHost: 'epp.default.svc', via: 'Service default/epp at its clusterIP 10.96.0.12, port.number' }, reason: 'spec.endpointPickerRef names Service default/epp' }) }));
    assert.match(external.get('default/gemma')![0]!.conditions[1]!.message, /^spec\.endpointPickerRef names Service default\/epp; infergate asks that endpoint picker over ext_proc at 10\.96\.0\.12:9002 for each request$/);
    const self = desiredPoolParents(facts(resources, { pickerRef: () => ({ picker: 'self', reason: 'the pool has no spec.endpointPickerRef' }) }));
    assert.equal(self.get('default/gemma')![0]!.conditions[1]!.message, 'endpoints are picked inside infergate (EndpointPickerConfig: the default): the pool has no spec.endpointPickerRef');
  });

  test('a very long problem text is truncated to fit a condition message', () => {
    const out = desiredPoolParents(facts([route('r1').parent('infergate').rule(pool('broken'))], { rejected: new Map([['InferencePool/default/broken', ['x'.repeat(50_000)]]]) }));
    const message = out.get('default/broken')![0]!.conditions[0]!.message;
    assert.ok(message.length <= 4000, `message is ${message.length} characters`);
    assert.match(message, /\[\.\.\.\]$/);
  });
});

describe('mergeParents', () => {
  const NOW = '2025-06-01T12:00:00Z';
  const BEFORE = '2025-01-01T00:00:00Z';
  const ref = (name: string, namespace = 'default'): ParentStatusJson['parentRef'] => ({ group: GW, kind: 'Gateway', namespace, name });
  const cond = (type: string, status: ConditionJson['status'], extra: Partial<ConditionJson> = {}): ConditionJson => ({ type, status, reason: status === 'True' ? type : 'Nope', message: `${type} is ${status}`, ...extra });
  const ours = (accepted: ConditionJson['status'] = 'True', resolved: ConditionJson['status'] = 'True'): ParentStatusJson => ({ parentRef: ref('infergate'), conditions: [cond('Accepted', accepted), cond('ResolvedRefs', resolved)] });
  const OURS_KEY = `${GW}/Gateway/default/infergate`;
  const isOurs = (k: string): boolean => k === OURS_KEY;
  const notOurs = (): boolean => false;
  const other: ParentStatusJson = {
    parentRef: { group: GW, kind: 'Gateway', namespace: 'envoy-gateway-system', name: 'eg' },
    conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'accepted by Envoy Gateway', observedGeneration: 1, lastTransitionTime: BEFORE }],
  };

  test('keeps another controller entry untouched and in its place; ours, new, goes last with lastTransitionTime now', () => {
    const next = mergeParents([other], [ours()], 'default', undefined, notOurs, NOW);
    assert.ok(next);
    assert.equal(next.length, 2);
    assert.deepEqual(next[0], other);
    assert.deepEqual(next[1], { parentRef: ref('infergate'), conditions: [cond('Accepted', 'True', { lastTransitionTime: NOW }), cond('ResolvedRefs', 'True', { lastTransitionTime: NOW })] });
    // Ours listed before the other one keeps its place: moving it last would fight, at every turn, a writer that
    // puts its own last (another controller, or infergate for another Gateway under --gateway-name).
    const inPlace = mergeParents([{ ...ours('False'), conditions: [cond('Accepted', 'False', { lastTransitionTime: BEFORE })] }, other], [ours()], 'default', undefined, isOurs, NOW);
    assert.deepEqual(
      inPlace?.map((p) => p.parentRef.name),
      ['infergate', 'eg'],
    );
    // The other writer's turn, ours unchanged: nothing to write.
    assert.equal(mergeParents(inPlace!, [ours()], 'default', undefined, isOurs, NOW), undefined);
  });

  test('replaces our old entry instead of adding a second one', () => {
    const old: ParentStatusJson = { parentRef: ref('infergate'), conditions: [cond('Accepted', 'False', { message: 'old', lastTransitionTime: BEFORE })] };
    const next = mergeParents([old, other], [ours()], 'default', undefined, isOurs, NOW);
    assert.ok(next);
    assert.equal(next.filter((p) => p.parentRef.name === 'infergate').length, 1);
    assert.deepEqual(
      next.find((p) => p.parentRef.name === 'infergate')!.conditions.map((c) => [c.type, c.status, c.message]),
      [
        ['Accepted', 'True', 'Accepted is True'],
        ['ResolvedRefs', 'True', 'ResolvedRefs is True'],
      ],
    );
  });

  test('an existing parentRef without a namespace is the same parent as ours in the pool namespace', () => {
    const old: ParentStatusJson = { parentRef: { name: 'infergate' }, conditions: [cond('Accepted', 'True', { lastTransitionTime: BEFORE })] };
    const next = mergeParents([old], [ours()], 'default', undefined, notOurs, NOW);
    assert.ok(next);
    assert.equal(next.length, 1, 'replaced, not kept beside ours');
    assert.equal(next[0]!.conditions.find((c) => c.type === 'Accepted')!.lastTransitionTime, BEFORE);
  });

  const transitions: { name: string; before: ConditionJson['status']; after: ConditionJson['status']; want: string }[] = [
    { name: 'status unchanged (message changed): lastTransitionTime kept', before: 'True', after: 'True', want: BEFORE },
    { name: 'True -> False: lastTransitionTime is now', before: 'True', after: 'False', want: NOW },
    { name: 'False -> True: lastTransitionTime is now', before: 'False', after: 'True', want: NOW },
  ];
  for (const t of transitions) {
    test(`lastTransitionTime, ${t.name}`, () => {
      const existing: ParentStatusJson = { parentRef: ref('infergate'), conditions: [cond('Accepted', 'True', { lastTransitionTime: BEFORE }), cond('ResolvedRefs', t.before, { message: 'old message', lastTransitionTime: BEFORE })] };
      const next = mergeParents([existing], [ours('True', t.after)], 'default', undefined, isOurs, NOW);
      assert.ok(next, 'the message changed, so there is something to write');
      const [accepted, resolved] = next[0]!.conditions;
      assert.equal(accepted!.lastTransitionTime, BEFORE, 'Accepted did not change status');
      assert.equal(resolved!.lastTransitionTime, t.want);
    });
  }

  test('a condition type new to the entry, or an old one without lastTransitionTime, gets now', () => {
    const existing: ParentStatusJson = { parentRef: ref('infergate'), conditions: [cond('Accepted', 'True')] };
    const next = mergeParents([existing], [ours()], 'default', undefined, isOurs, NOW);
    assert.deepEqual(
      next?.[0]!.conditions.map((c) => c.lastTransitionTime),
      [NOW, NOW],
    );
  });

  test('sets observedGeneration on our conditions only; a new generation alone is a change', () => {
    const first = mergeParents([other], [ours()], 'default', 6, notOurs, NOW);
    assert.ok(first);
    assert.deepEqual(first[0], other, 'the other controller entry keeps its own observedGeneration');
    assert.deepEqual(
      first[1]!.conditions.map((c) => c.observedGeneration),
      [6, 6],
    );
    assert.equal(mergeParents(first, [ours()], 'default', 6, isOurs, '2030-01-01T00:00:00Z'), undefined);
    const bumped = mergeParents(first, [ours()], 'default', 7, isOurs, '2030-01-01T00:00:00Z');
    assert.ok(bumped, 'a new generation is written');
    assert.deepEqual(
      bumped[1]!.conditions.map((c) => [c.observedGeneration, c.lastTransitionTime]),
      [
        [7, NOW],
        [7, NOW],
      ],
    );
  });

  test('returns undefined when nothing would change, whatever the order of conditions', () => {
    const written = mergeParents([other], [ours()], 'default', 3, notOurs, NOW);
    assert.ok(written);
    assert.equal(mergeParents(written, [ours()], 'default', 3, isOurs, '2030-01-01T00:00:00Z'), undefined);
    const shuffled = written.map((p) => ({ ...p, conditions: [...p.conditions].reverse() }));
    assert.equal(mergeParents(shuffled, [ours()], 'default', 3, isOurs, '2030-01-01T00:00:00Z'), undefined);
    assert.equal(mergeParents([], [], 'default', 3, notOurs, NOW), undefined, 'nothing there, nothing wanted');
    assert.equal(mergeParents([other], [], 'default', 3, notOurs, NOW), undefined, 'only another controller entry');
  });

  test('removes an entry that is ours but no longer desired, and keeps one that is not ours', () => {
    const stale: ParentStatusJson = { parentRef: ref('infergate'), conditions: [cond('Accepted', 'True', { lastTransitionTime: BEFORE })] };
    assert.deepEqual(mergeParents([stale, other], [], 'default', undefined, isOurs, NOW), [other]);
    assert.deepEqual(mergeParents([stale], [], 'default', undefined, isOurs, NOW), []);
    assert.equal(mergeParents([stale, other], [], 'default', undefined, notOurs, NOW), undefined, 'not ours: left alone');
  });

  test('caps the list at 32 parents, other controllers first', () => {
    const others = Array.from({ length: 31 }, (_, i): ParentStatusJson => ({ ...other, parentRef: ref(`gw-${i}`, 'elsewhere') }));
    const desired = [ours(), { ...ours(), parentRef: ref('infergate-2') }];
    const next = mergeParents(others, desired, 'default', undefined, notOurs, NOW);
    assert.ok(next);
    assert.equal(next.length, 32);
    assert.deepEqual(next.slice(0, 31), others);
    assert.equal(next[31]!.parentRef.name, 'infergate');
    const full = Array.from({ length: 32 }, (_, i): ParentStatusJson => ({ ...other, parentRef: ref(`gw-${i}`, 'elsewhere') }));
    assert.equal(mergeParents(full, [ours()], 'default', undefined, notOurs, NOW), undefined, 'no room: nothing to write');
  });
});

test("a pool many HTTPRoutes reach gets an Accepted message within metav1.Condition's 32768 bytes, which the API server enforces on the whole patch", () => {
  const routes = Array.from({ length: 400 }, (_, i) => route(`tenant-${i}-${'r'.repeat(200)}`).parent('infergate').rule(pool('gemma')));
  const out = desiredPoolParents(facts([inferencePool('gemma').selects({ app: 'gemma' }), ...routes]));
  const conditions = out.get('default/gemma')![0]!.conditions;
  const accepted = conditions.find((c) => c.type === 'Accepted')!;
  assert.equal(accepted.status, 'True');
  assert.match(accepted.message, /^infergate routes to this pool from HTTPRoutes default\/tenant-0-r+, /);
  for (const c of conditions) assert.ok(Buffer.byteLength(c.message) <= 32768, `${c.type}: ${Buffer.byteLength(c.message)} bytes`);
});
