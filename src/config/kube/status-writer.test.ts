/** PoolStatusWriter against the in-process API server: what it PATCHes, when it does not, and how it rides out 403 and 409. */
import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { FakeKubeApi, type FakeObject } from '../../../test/helpers/fake-kube-api.js';
import { until } from '../../../test/helpers/until.js';
import type { Resource } from '../../api/resource.js';
import { inferencePool } from '../../api/test-fixtures.js';
import { createLogger, type Logger } from '../../logger.js';
import { pool, route } from '../../route/test-fixtures.js';
import { buildSnapshot } from '../snapshot.js';
import type { ParentStatusJson } from './pool-status.js';
import type { KubeObject } from './kube-object.js';
import { Reflector } from './reflector.js';
import { HTTP_ROUTES, INFERENCE_POOLS, collectionPath, objectPath } from './resource-types.js';
import { PoolStatusWriter, type StatusInputs, type StatusWriterOptions } from './status-writer.js';

const api = new FakeKubeApi();
const silent = createLogger(process.env.INFERGATE_TEST_LOG === 'debug' ? 'debug' : 'silent');
before(() => api.start());
after(() => api.stop());

const GW = 'gateway.networking.k8s.io';
const NOW = new Date('2025-06-01T12:34:56.789Z');

interface Captured {
  log: Logger;
  lines: { level: string; msg: string }[];
}

function capturingLogger(): Captured {
  const lines: Captured['lines'] = [];
  const at =
    (level: string) =>
    (msg: string): void => {
      lines.push({ level, msg });
    };
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

function poolObject(name: string, namespace: string, status?: unknown): FakeObject {
  return {
    apiVersion: INFERENCE_POOLS.apiVersion,
    kind: INFERENCE_POOLS.kind,
    metadata: { name, namespace },
    spec: { selector: { matchLabels: { app: name } }, targetPorts: [{ number: 8000 }] },
    ...(status === undefined ? {} : { status }),
  };
}

/** The typed resources infergate would read from the same objects: pool `name` and a route to it from Gateway infergate. */
function resources(namespace: string, name: string, withRoute = true): Resource[] {
  const out: Resource[] = [inferencePool(name).inNamespace(namespace).selects({ app: name })];
  if (withRoute) out.push(route('r1', namespace).parent('infergate').rule(pool(name, 1, namespace)));
  return out;
}

function inputs(res: Resource[], pools: () => Iterable<KubeObject>): StatusInputs {
  return { snapshot: buildSnapshot(res), pools, rejected: new Map(), pickerProblems: new Map(), pickerOrigin: () => undefined };
}

/** A started reflector on the namespace's pools, stopped when the test ends (passed or not: a live one keeps the file running). */
async function poolReflector(t: TestContext, namespace: string): Promise<Reflector> {
  const r = new Reflector({ client: api.client(namespace), type: INFERENCE_POOLS, namespace, log: silent, onChange: () => {}, backoff: { initialMs: 20, maxMs: 200, jitter: 0 } });
  t.after(() => r.stop());
  r.start();
  await r.whenSynced();
  return r;
}

function statusWriter(t: TestContext, namespace: string, opts: Partial<StatusWriterOptions> = {}): PoolStatusWriter {
  const w = new PoolStatusWriter({ client: api.client(namespace), log: silent, ...opts });
  t.after(() => w.close());
  return w;
}

const patches = (path: string): { body?: string }[] => api.requests.filter((q) => q.method === 'PATCH' && q.url === path);
const parentsIn = (o: FakeObject | KubeObject | undefined): ParentStatusJson[] | undefined => (o?.status as { parents?: ParentStatusJson[] } | undefined)?.parents;

test('writes our parent entry once; the same inputs again send no PATCH; a route gone removes it', async (t) => {
  const ns = 'write-once';
  const coll = collectionPath(INFERENCE_POOLS, ns);
  const statusPath = objectPath(INFERENCE_POOLS, ns, 'gemma', 'status');
  api.put(coll, poolObject('gemma', ns));
  const rv = api.get(coll, 'gemma')!.metadata.resourceVersion;
  const pools = await poolReflector(t, ns);
  const writer = statusWriter(t, ns, { now: () => NOW });
  const withRoute = inputs(resources(ns, 'gemma'), () => pools.items());

  await writer.update(withRoute);
  assert.equal(patches(statusPath).length, 1);
  assert.equal(writer.stats.writes, 1);
  const body = JSON.parse(patches(statusPath)[0]!.body ?? '{}') as { metadata?: { resourceVersion?: string } };
  assert.equal(body.metadata?.resourceVersion, rv, 'the patch is conditional on the version it was computed from');
  const stored = api.get(coll, 'gemma')!;
  assert.deepEqual(parentsIn(stored), [
    {
      parentRef: { group: GW, kind: 'Gateway', namespace: ns, name: 'infergate' },
      controllerName: 'infergate.io/gateway-controller',
      conditions: [
        { type: 'Accepted', status: 'True', reason: 'Accepted', message: `infergate routes to this pool from HTTPRoute ${ns}/r1`, lastTransitionTime: '2025-06-01T12:34:56Z' },
        {
          type: 'ResolvedRefs',
          status: 'True',
          reason: 'ResolvedRefs',
          message: 'endpoints are picked inside infergate (EndpointPickerConfig: the default); spec.endpointPickerRef is not called',
          lastTransitionTime: '2025-06-01T12:34:56Z',
        },
      ],
    },
  ]);
  assert.deepEqual(stored.spec, poolObject('gemma', ns).spec, 'a status write leaves the spec alone');

  // Once the watch brings the written status, the same inputs want nothing.
  await until(() => parentsIn([...pools.items()][0]) !== undefined, 'the watch to bring the status');
  await writer.update(withRoute);
  await writer.update(inputs(resources(ns, 'gemma'), () => pools.items()));
  assert.equal(patches(statusPath).length, 1, 'no second PATCH');

  // The route is deleted: our entry goes, and with it the whole parents list.
  await writer.update(inputs(resources(ns, 'gemma', false), () => pools.items()));
  assert.equal(patches(statusPath).length, 2);
  assert.equal(parentsIn(api.get(coll, 'gemma')), undefined);
});

test('after a restart, an entry infergate wrote (its controllerName) is still removed when its route goes; one it cannot tell from another controller\'s is kept', async (t) => {
  const ns = 'restart';
  const coll = collectionPath(INFERENCE_POOLS, ns);
  const statusPath = objectPath(INFERENCE_POOLS, ns, 'gemma', 'status');
  const unmarked: ParentStatusJson = {
    parentRef: { group: GW, kind: 'Gateway', namespace: 'envoy-gateway-system', name: 'eg' },
    conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'accepted by a controller that names none', lastTransitionTime: '2024-01-01T00:00:00Z' }],
  };
  api.put(coll, poolObject('gemma', ns, { parents: [unmarked] }));
  const pools = await poolReflector(t, ns);
  const before = statusWriter(t, ns, { now: () => NOW });
  await before.update(inputs(resources(ns, 'gemma'), () => pools.items()));
  assert.deepEqual(parentsIn(api.get(coll, 'gemma'))?.map((p) => p.controllerName), [undefined, 'infergate.io/gateway-controller']);
  await before.close();

  // A new process (a restart, a rollout) remembers nothing; the route was deleted meanwhile.
  await until(() => parentsIn([...pools.items()][0])?.length === 2, 'the watch to bring the status');
  const after = statusWriter(t, ns, { now: () => NOW });
  await after.update(inputs(resources(ns, 'gemma', false), () => pools.items()));
  assert.deepEqual(parentsIn(api.get(coll, 'gemma')), [unmarked]);
  assert.equal(patches(statusPath).length, 2);
});

test('an entry whose controllerName the CRD pruned (GIE before v1.1) is not written again and again', async (t) => {
  const ns = 'pruned-controller-name';
  const coll = collectionPath(INFERENCE_POOLS, ns);
  const statusPath = objectPath(INFERENCE_POOLS, ns, 'gemma', 'status');
  api.put(coll, poolObject('gemma', ns));
  const pools = await poolReflector(t, ns);
  const writer = statusWriter(t, ns, { now: () => NOW });
  const withRoute = inputs(resources(ns, 'gemma'), () => pools.items());
  await writer.update(withRoute);
  assert.equal(patches(statusPath).length, 1);
  // What a v1.0 CRD keeps of that write: the entry without controllerName.
  const stored = api.get(coll, 'gemma')!;
  const pruned = parentsIn(stored)!.map(({ controllerName: _dropped, ...rest }) => rest);
  api.put(coll, { ...stored, status: { parents: pruned } });
  await until(() => [...pools.items()][0]?.metadata.resourceVersion === api.get(coll, 'gemma')!.metadata.resourceVersion, 'the watch to bring the pruned status');
  await writer.update(withRoute);
  await writer.update(withRoute);
  assert.equal(patches(statusPath).length, 1, 'no PATCH for the pruned field alone');
});

test("another controller's parent entry survives our write", async (t) => {
  const ns = 'other-controller';
  const coll = collectionPath(INFERENCE_POOLS, ns);
  const theirs: ParentStatusJson = {
    parentRef: { group: GW, kind: 'Gateway', namespace: 'envoy-gateway-system', name: 'eg' },
    conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'accepted by Envoy Gateway', observedGeneration: 1, lastTransitionTime: '2024-01-01T00:00:00Z' }],
  };
  api.put(coll, poolObject('gemma', ns, { parents: [theirs] }));
  const pools = await poolReflector(t, ns);
  const writer = statusWriter(t, ns, { now: () => NOW });
  await writer.update(inputs(resources(ns, 'gemma'), () => pools.items()));
  const parents = parentsIn(api.get(coll, 'gemma'));
  assert.equal(parents?.length, 2);
  assert.deepEqual(parents[0], theirs);
  assert.deepEqual(parents[1]!.parentRef, { group: GW, kind: 'Gateway', namespace: ns, name: 'infergate' });

  // And when our route goes, only ours is removed.
  await until(() => parentsIn([...pools.items()][0])?.length === 2, 'the watch to bring the status');
  await writer.update(inputs(resources(ns, 'gemma', false), () => pools.items()));
  assert.deepEqual(parentsIn(api.get(coll, 'gemma')), [theirs]);
});

test('forbidden: no throw, counted, logged once with what to grant; retried after forbiddenRetryMs and then written', async (t) => {
  const ns = 'forbidden';
  const coll = collectionPath(INFERENCE_POOLS, ns);
  const statusPath = objectPath(INFERENCE_POOLS, ns, 'gemma', 'status');
  api.put(coll, poolObject('gemma', ns));
  api.forbid(statusPath);
  const pools = await poolReflector(t, ns);
  const { log, lines } = capturingLogger();
  const writer = statusWriter(t, ns, { log, forbiddenRetryMs: 150 });
  const i = inputs(resources(ns, 'gemma'), () => pools.items());

  await writer.update(i); // resolves: a 403 is not an error of the caller's
  assert.equal(writer.stats.forbidden, 1);
  assert.equal(writer.stats.writes, 0);
  const errors = (): string[] => lines.filter((l) => l.level === 'error').map((l) => l.msg);
  assert.equal(errors().length, 1);
  assert.match(errors()[0]!, /403 Forbidden/);
  assert.match(errors()[0]!, /inferencepools\/status/);
  assert.match(errors()[0]!, /Routing is not affected/);

  // During the pause, further changes send nothing.
  await writer.update(i);
  assert.equal(patches(statusPath).length, 1);

  // Still forbidden at the first retry: counted again, not logged again.
  await until(() => writer.stats.forbidden === 2, 'the first retry');
  assert.equal(errors().length, 1, 'the error is logged once, not on every retry');

  api.forbid(statusPath, false);
  // The server applies the patch before the writer reads the answer: wait for both.
  await until(() => parentsIn(api.get(coll, 'gemma')) !== undefined && writer.stats.writes === 1, 'the write after RBAC is granted');
  assert.equal(writer.stats.writes, 1);
  assert.equal(writer.stats.forbidden, 2);
  assert.equal(errors().length, 1);
  assert.ok(lines.some((l) => l.level === 'info' && /works again/.test(l.msg)), 'recovery is logged');
});

test('a wall-clock step back during the forbidden pause does not lose the retry', async (t) => {
  const ns = 'forbidden-clock';
  const coll = collectionPath(INFERENCE_POOLS, ns);
  const statusPath = objectPath(INFERENCE_POOLS, ns, 'gemma', 'status');
  api.put(coll, poolObject('gemma', ns));
  api.forbid(statusPath);
  const pools = await poolReflector(t, ns);
  let skewMs = 0;
  const writer = statusWriter(t, ns, { forbiddenRetryMs: 50, now: () => new Date(Date.now() - skewMs) });
  await writer.update(inputs(resources(ns, 'gemma'), () => pools.items()));
  assert.equal(writer.stats.forbidden, 1);
  // NTP steps the clock back: when the retry timer fires, the pause seems not over yet.
  skewMs = 200;
  api.forbid(statusPath, false);
  await until(() => parentsIn(api.get(coll, 'gemma')) !== undefined, 'the write once the pause is over by the clock', 2000);
});

test('409 Conflict (the pool changed between reading and writing) is retried with the new version and ends written', async (t) => {
  const ns = 'conflict';
  const coll = collectionPath(INFERENCE_POOLS, ns);
  const statusPath = objectPath(INFERENCE_POOLS, ns, 'gemma', 'status');
  api.put(coll, poolObject('gemma', ns));
  const pools = await poolReflector(t, ns);
  const stale = [...pools.items()][0]!;
  // Someone else edits the pool after we read it.
  api.put(coll, { ...poolObject('gemma', ns), metadata: { name: 'gemma', namespace: ns, labels: { edited: 'yes' } } });
  const fresh = api.get(coll, 'gemma')!.metadata.resourceVersion;
  await until(() => pools.resourceVersion === fresh, 'the watch to bring the edit');
  let calls = 0;
  const writer = statusWriter(t, ns, { now: () => NOW });
  await writer.update(
    inputs(resources(ns, 'gemma'), () => {
      calls++;
      return calls === 1 ? [stale] : pools.items();
    }),
  );
  assert.equal(writer.stats.conflicts, 1);
  assert.equal(writer.stats.writes, 0);
  assert.equal(parentsIn(api.get(coll, 'gemma')), undefined, 'the stale write was refused');

  await until(() => writer.stats.writes === 1, 'the retry after the conflict');
  const sent = patches(statusPath).map((p) => (JSON.parse(p.body ?? '{}') as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
  assert.deepEqual(sent, [stale.metadata.resourceVersion, fresh]);
  const stored = api.get(coll, 'gemma')!;
  assert.equal(parentsIn(stored)?.[0]?.parentRef.name, 'infergate');
  assert.deepEqual(stored.metadata.labels, { edited: 'yes' }, "the other writer's change is not lost");
});

test('a pool deleted before the write (404) is not an error', async (t) => {
  const ns = 'deleted';
  const coll = collectionPath(INFERENCE_POOLS, ns);
  api.put(coll, poolObject('gemma', ns));
  const gone = structuredClone(api.get(coll, 'gemma')!) as KubeObject;
  api.remove(coll, 'gemma');
  const { log, lines } = capturingLogger();
  const writer = statusWriter(t, ns, { log });
  await writer.update(inputs(resources(ns, 'gemma'), () => [gone]));
  assert.equal(patches(objectPath(INFERENCE_POOLS, ns, 'gemma', 'status')).length, 1);
  assert.deepEqual(
    lines.filter((l) => l.level === 'warn' || l.level === 'error'),
    [],
  );
  assert.deepEqual(writer.stats, { writes: 0, forbidden: 0, conflicts: 0 });
});

test('the fake API server: a status merge patch touches only status, checks the resourceVersion and emits MODIFIED', async (t) => {
  const ns = 'fake-patch';
  const coll = collectionPath(INFERENCE_POOLS, ns);
  api.put(coll, poolObject('p', ns, { parents: [{ parentRef: { name: 'a' }, conditions: [] }], other: 'kept' }));
  const client = api.client(ns);
  const path = objectPath(INFERENCE_POOLS, ns, 'p', 'status');
  const rv = api.get(coll, 'p')!.metadata.resourceVersion;
  const pools = await poolReflector(t, ns);
  const answer = await client.patch(path, { metadata: { resourceVersion: rv }, spec: { targetPorts: [] }, status: { parents: null, extra: { x: 1 } } });
  const stored = api.get(coll, 'p')!;
  assert.deepEqual(stored.status, { other: 'kept', extra: { x: 1 } });
  assert.deepEqual(stored.spec, poolObject('p', ns).spec, 'spec is not changed through the status subresource');
  assert.notEqual(stored.metadata.resourceVersion, rv);
  assert.deepEqual(answer, stored);
  await until(() => (([...pools.items()][0]?.status ?? {}) as { extra?: unknown }).extra !== undefined, 'the MODIFIED event');
  await assert.rejects(client.patch(path, { metadata: { resourceVersion: rv }, status: {} }), { status: 409, reason: 'Conflict' });
  await assert.rejects(client.patch(objectPath(INFERENCE_POOLS, ns, 'nope', 'status'), { status: {} }), { status: 404, reason: 'NotFound' });
  await assert.rejects(client.patch(path, { status: {} }, 'application/json-patch+json'), { status: 415 });
});

test('a forbidden HTTPRoute status write pauses route status only: pool status is still written', async (t) => {
  const ns = 'forbidden-routes';
  const pools = collectionPath(INFERENCE_POOLS, ns);
  const routes = collectionPath(HTTP_ROUTES, ns);
  api.put(pools, poolObject('gemma', ns));
  api.put(routes, { apiVersion: HTTP_ROUTES.apiVersion, kind: 'HTTPRoute', metadata: { name: 'r1', namespace: ns }, spec: {} });
  const routeStatus = objectPath(HTTP_ROUTES, ns, 'r1', 'status');
  api.forbid(routeStatus);
  const reflector = await poolReflector(t, ns);
  const { log, lines } = capturingLogger();
  const writer = statusWriter(t, ns, { log, forbiddenRetryMs: 60_000 });
  const i: StatusInputs = { ...inputs(resources(ns, 'gemma'), () => reflector.items()), routes: () => [api.get(routes, 'r1') as KubeObject] };

  await writer.update(i);
  assert.equal(patches(routeStatus).length, 1);
  assert.equal(parentsIn(api.get(pools, 'gemma'))?.length, 1, 'pool status written');
  assert.match(lines.find((l) => l.level === 'error')?.msg ?? '', /httproutes\/status/);
  // A later change: the pool's status is current, the route's kind is paused, so nothing is sent.
  await writer.update(i);
  assert.equal(patches(routeStatus).length, 1);
});
