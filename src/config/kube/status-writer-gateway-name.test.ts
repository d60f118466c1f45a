/**
 * Two infergate Deployments, one per Gateway (`--gateway-name`), as GIE's conformance suite may be run with its
 * `conformance-primary` and `conformance-secondary`: each writes only its own Gateway's status entries and leaves the
 * other's alone, on HTTPRoutes and InferencePools, including the Gateways in another namespace than the routes.
 * Its own in-process API server on 127.0.192.1.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeKubeApi, type FakeObject } from '../../../test/helpers/fake-kube-api.js';
import type { Resource } from '../../api/resource.js';
import { inferencePool } from '../../api/test-fixtures.js';
import { createLogger } from '../../logger.js';
import { GATEWAY_GROUP } from '../../route/parent-gateway.js';
import { pool, route } from '../../route/test-fixtures.js';
import { buildSnapshot } from '../snapshot.js';
import type { ParentStatusJson } from './pool-status.js';
import type { KubeObject } from './kube-object.js';
import { HTTP_ROUTES, INFERENCE_POOLS, collectionPath } from './resource-types.js';
import { PoolStatusWriter, type StatusInputs } from './status-writer.js';

const api = new FakeKubeApi();
const silent = createLogger('silent');
before(() => api.start('127.0.192.1'));
after(() => api.stop());

const NS = 'inference-conformance-app-backend';
const INFRA = 'inference-conformance-infra';
const POOLS = collectionPath(INFERENCE_POOLS, NS);
const ROUTES = collectionPath(HTTP_ROUTES, NS);

/** A route in the app namespace to the primary pool from one Gateway of the infra namespace. */
function routeTo(name: string, gateway: string): Resource {
  const r = route(name, NS).rule(pool('primary-inference-pool', 1, NS));
  r.parentRefs.push({ group: GATEWAY_GROUP, kind: 'Gateway', name: gateway, namespace: INFRA, sectionName: 'http' });
  return r;
}

function routeObject(name: string): FakeObject {
  return { apiVersion: HTTP_ROUTES.apiVersion, kind: 'HTTPRoute', metadata: { name, namespace: NS }, spec: {} };
}

const parentsIn = (o: FakeObject | undefined): ParentStatusJson[] => (o?.status as { parents?: ParentStatusJson[] } | undefined)?.parents ?? [];
const gatewaysOf = (o: FakeObject | undefined): string[] => parentsIn(o).map((p) => `${p.parentRef.namespace}/${p.parentRef.name}`).sort();

test('one Deployment per Gateway: each keeps to its own Gateway\'s entries on routes and pools, the other\'s stay', async () => {
  api.put(POOLS, { apiVersion: INFERENCE_POOLS.apiVersion, kind: INFERENCE_POOLS.kind, metadata: { name: 'primary-inference-pool', namespace: NS }, spec: { selector: { matchLabels: { app: 'p' } }, targetPorts: [{ number: 3000 }] } });
  api.put(ROUTES, routeObject('httproute-for-primary-gw'));
  api.put(ROUTES, routeObject('httproute-for-secondary-gw'));
  const resources: Resource[] = [inferencePool('primary-inference-pool').inNamespace(NS).selects({ app: 'p' }), routeTo('httproute-for-primary-gw', 'conformance-primary'), routeTo('httproute-for-secondary-gw', 'conformance-secondary')];
  const inputs = (res: Resource[]): StatusInputs => ({
    snapshot: buildSnapshot(res),
    pools: () => [api.get(POOLS, 'primary-inference-pool') as KubeObject],
    routes: () => [api.get(ROUTES, 'httproute-for-primary-gw') as KubeObject, api.get(ROUTES, 'httproute-for-secondary-gw') as KubeObject],
    rejected: new Map(),
    pickerProblems: new Map(),
    pickerOrigin: () => undefined,
  });
  const primary = new PoolStatusWriter({ client: api.client(NS), log: silent, gatewayName: 'conformance-primary' });
  const secondary = new PoolStatusWriter({ client: api.client(NS), log: silent, gatewayName: 'conformance-secondary' });
  try {
    await secondary.update(inputs(resources));
    await primary.update(inputs(resources));
    assert.deepEqual(gatewaysOf(api.get(ROUTES, 'httproute-for-secondary-gw')), [`${INFRA}/conformance-secondary`], "the primary's writer left the secondary's route entry");
    assert.deepEqual(gatewaysOf(api.get(ROUTES, 'httproute-for-primary-gw')), [`${INFRA}/conformance-primary`]);
    assert.deepEqual(gatewaysOf(api.get(POOLS, 'primary-inference-pool')), [`${INFRA}/conformance-primary`, `${INFRA}/conformance-secondary`]);
    // Nothing changed: neither writes again (before, each removed the other's route entry, and the other put it back).
    const writes = (): number => api.requests.filter((q) => q.method === 'PATCH').length;
    const before = writes();
    await secondary.update(inputs(resources));
    await primary.update(inputs(resources));
    assert.equal(writes(), before);

    // A fresh primary writer (a restart) after its route went: its stale pool entry for a Gateway in another
    // namespace is still its own to remove, and the secondary's stays.
    primary.close();
    const restarted = new PoolStatusWriter({ client: api.client(NS), log: silent, gatewayName: 'conformance-primary' });
    try {
      await restarted.update(inputs(resources.filter((r) => r.kind !== 'HTTPRoute' || r.meta.name !== 'httproute-for-primary-gw')));
      assert.deepEqual(gatewaysOf(api.get(POOLS, 'primary-inference-pool')), [`${INFRA}/conformance-secondary`]);
    } finally {
      restarted.close();
    }
  } finally {
    primary.close();
    secondary.close();
  }
});
