/**
 * GIE's conformance suite, status side, against a real API server (issue #13 part 5): InferencePoolAccepted,
 * InferencePoolResolvedRefsCondition and InferencePoolMissingEPPRef, with the suite's names. infergate writes
 * each pool's `status.parents` for the Gateways whose HTTPRoutes send to it, and clears an entry when its last
 * route goes. The invalid EPP Service (InferencePoolInvalidEPPService) is in endpoint-picker-ref-kube.test.ts;
 * the routing side of every case is in conformance-gateway.test.ts. Octet 127.0.93.x.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import type { Fleet } from '../helpers/fleet.js';
import type { LocalKube } from '../helpers/local-kube.js';
import { HTTP_ROUTE, INFERENCE_POOL } from '../helpers/kube-test-client.js';
import { startKubeStatusEnv, type KubeStatusEnv } from '../helpers/kube-status-env.js';
import { eventually } from '../helpers/until.js';

const MODEL = 'conformance-fake-model';
const INFRA = 'inference-conformance-infra';

let env: KubeStatusEnv;
let kube: LocalKube;
let fleet: Fleet;

before(async () => {
  env = await startKubeStatusEnv(93, 'primary-inference-model-server-0', MODEL);
  ({ kube, fleet } = env);
});

after(() => env?.close());

interface Parent {
  parentRef: { name: string; namespace?: string; kind?: string; group?: string };
  controllerName?: string;
  conditions: { type: string; status: string; reason: string }[];
}

async function parents(ns: string, name: string): Promise<Parent[]> {
  const obj = await kube.client.get(INFERENCE_POOL, ns, name);
  return (obj?.status as { parents?: Parent[] } | undefined)?.parents ?? [];
}

/** `gateway -> Type=Status/Reason, ...` for one pool: what the suite's InferencePoolMustHaveCondition reads. */
async function conditionsByGateway(ns: string, name: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of await parents(ns, name)) {
    out[`${p.parentRef.namespace ?? ns}/${p.parentRef.name}`] = p.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`).sort().join(', ');
  }
  return out;
}

const route = (ns: string, name: string, gateway: string, host: string, pool: string) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name, namespace: ns },
  spec: {
    parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: gateway, namespace: INFRA, sectionName: 'http' }],
    hostnames: [host],
    rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/health' } }], backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: pool }] }],
  },
});

test('InferencePoolAccepted, InferencePoolResolvedRefsCondition and InferencePoolMissingEPPRef: parents per Gateway, Accepted and ResolvedRefs True, cleared as routes go', { timeout: 90_000 }, async () => {
  const ns = await env.namespaceWithPod('conformance', { app: 'primary-inference-model-server' });
  await kube.client.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'primary-endpoint-picker-svc', namespace: ns }, spec: { selector: { app: 'epp' }, ports: [{ protocol: 'TCP', port: 9002, targetPort: 9002 }] } });
  const pool = (name: string, ref: boolean) => ({
    apiVersion: 'inference.networking.k8s.io/v1',
    kind: 'InferencePool',
    metadata: { name, namespace: ns },
    spec: { selector: { matchLabels: { app: 'primary-inference-model-server' } }, targetPorts: [{ number: fleet.port }], ...(ref ? { endpointPickerRef: { name: 'primary-endpoint-picker-svc', kind: 'Service', port: { number: 9002 } } } : {}) },
  });
  await kube.client.apply(pool('primary-inference-pool', true));
  await kube.client.apply(pool('pool-with-missing-epp-ref', false));
  await kube.client.apply(route(ns, 'httproute-for-primary-gw', 'conformance-primary', 'primary.example.com', 'primary-inference-pool'));
  await kube.client.apply(route(ns, 'httproute-for-secondary-gw', 'conformance-secondary', 'secondary.example.com', 'primary-inference-pool'));
  await kube.client.apply(route(ns, 'httproute-for-missing-epp-ref-pool', 'conformance-primary', 'missing.example.com', 'pool-with-missing-epp-ref'));
  const gw: RunningGateway = await env.serve(ns, { configEdits: { allowEmptyConfig: true } });
  // undici's request, not fetch: fetch drops a Host header, and the routes match on hostnames.
  const get = async (host: string): Promise<number> => {
    const res = await request(`${gw.url}/health`, { headers: { host } });
    await res.body.dump();
    return res.statusCode;
  };
  try {
    const both = { [`${INFRA}/conformance-primary`]: 'Accepted=True/Accepted, ResolvedRefs=True/ResolvedRefs', [`${INFRA}/conformance-secondary`]: 'Accepted=True/Accepted, ResolvedRefs=True/ResolvedRefs' };
    await eventually('the pool is accepted by both Gateways', 15_000, async () => JSON.stringify(await conditionsByGateway(ns, 'primary-inference-pool')) === JSON.stringify(both));
    assert.deepEqual(await conditionsByGateway(ns, 'primary-inference-pool'), both);
    // Stamped, so a restarted infergate still knows these entries for its own (GIE's ParentStatus.controllerName).
    assert.deepEqual((await parents(ns, 'primary-inference-pool')).map((p) => p.controllerName), ['infergate.io/gateway-controller', 'infergate.io/gateway-controller']);
    // InferencePoolMissingEPPRef: a pool with no endpointPickerRef is Accepted (infergate picks for it).
    await eventually('the pool without a ref is accepted', 10_000, async () => (await conditionsByGateway(ns, 'pool-with-missing-epp-ref'))[`${INFRA}/conformance-primary`]?.includes('Accepted=True') === true);
    assert.equal(await get('missing.example.com'), 200);
    assert.deepEqual([await get('primary.example.com'), await get('secondary.example.com')], [200, 200]);

    // Deleting the primary Gateway's route removes that parent; the secondary still routes.
    await kube.client.delete(HTTP_ROUTE, ns, 'httproute-for-primary-gw');
    await eventually('the primary parent is removed', 15_000, async () => Object.keys(await conditionsByGateway(ns, 'primary-inference-pool')).join() === `${INFRA}/conformance-secondary`);
    assert.deepEqual([await get('primary.example.com'), await get('secondary.example.com')], [404, 200]);

    // Deleting the last route leaves the pool with no parents, and nothing routes to it.
    await kube.client.delete(HTTP_ROUTE, ns, 'httproute-for-secondary-gw');
    await eventually('no parents left', 15_000, async () => (await parents(ns, 'primary-inference-pool')).length === 0);
    assert.equal(await get('secondary.example.com'), 404);
  } finally {
    await gw.close();
  }
});
