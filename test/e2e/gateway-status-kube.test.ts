/**
 * Gateway API status against a real API server: infergate, as the Gateway, writes HTTPRoute parents
 * (`Accepted`, `ResolvedRefs`, `BackendNotFound` for a missing pool), its Gateways' `Accepted`/`Programmed` with
 * listeners, and its GatewayClass's `Accepted`; what GIE's conformance suite waits for at setup. Other
 * controllers' Gateways, classes and route entries are left alone. Octet 127.0.104.x.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { INFERGATE_CONTROLLER_NAME } from '../../src/config/kube/route-status.js';
import type { Fleet } from '../helpers/fleet.js';
import type { LocalKube } from '../helpers/local-kube.js';
import { GATEWAY, GATEWAY_CLASS, HTTP_ROUTE, resourcePath } from '../helpers/kube-test-client.js';
import { startKubeStatusEnv, type KubeStatusEnv } from '../helpers/kube-status-env.js';
import { eventually } from '../helpers/until.js';

const MODEL = 'conformance-fake-model';
const GW_GROUP = 'gateway.networking.k8s.io';

let env: KubeStatusEnv;
let kube: LocalKube;
let fleet: Fleet;

before(async () => {
  env = await startKubeStatusEnv(104, 'primary-0', MODEL, ['crds.yaml', 'gateway-crds.yaml']);
  ({ kube, fleet } = env);
});

after(() => env?.close());

interface Condition {
  type: string;
  status: string;
  reason: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}
interface Parent {
  parentRef: { name: string; namespace?: string; sectionName?: string };
  controllerName: string;
  conditions: Condition[];
}

const summary = (conditions: Condition[] | undefined): string => (conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`).sort().join(', ');

async function status(type: typeof GATEWAY, ns: string | undefined, name: string): Promise<Record<string, unknown>> {
  return ((await kube.client.get(type, ns, name))?.status ?? {}) as Record<string, unknown>;
}

async function routeParents(ns: string, name: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of ((await status(HTTP_ROUTE, ns, name)).parents ?? []) as Parent[]) out[`${p.parentRef.name} by ${p.controllerName}`] = summary(p.conditions);
  return out;
}

const route = (ns: string, name: string, gateways: string[], pool: string) => ({
  apiVersion: `${GW_GROUP}/v1`,
  kind: 'HTTPRoute',
  metadata: { name, namespace: ns },
  spec: {
    parentRefs: gateways.map((g) => ({ group: GW_GROUP, kind: 'Gateway', name: g, sectionName: 'http' })),
    hostnames: [`${name}.example.com`],
    rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/health' } }], backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: pool }] }],
  },
});

const ACCEPTED = 'Accepted=True/Accepted, ResolvedRefs=True/ResolvedRefs';

test('HTTPRoute parents, Gateway and GatewayClass status for infergate\'s own; others\' left alone', { timeout: 90_000 }, async () => {
  const ns = await env.namespaceWithPod('gwstatus', { app: 'primary' });
  const ourClass = `infergate-${ns}`;
  const theirClass = `other-${ns}`;
  await kube.client.apply({ apiVersion: 'inference.networking.k8s.io/v1', kind: 'InferencePool', metadata: { name: 'primary-pool', namespace: ns }, spec: { selector: { matchLabels: { app: 'primary' } }, targetPorts: [{ number: fleet.port }] } });
  await kube.client.apply({ apiVersion: `${GW_GROUP}/v1`, kind: 'GatewayClass', metadata: { name: ourClass }, spec: { controllerName: INFERGATE_CONTROLLER_NAME } });
  await kube.client.apply({ apiVersion: `${GW_GROUP}/v1`, kind: 'GatewayClass', metadata: { name: theirClass }, spec: { controllerName: 'example.com/other' } });
  const gateway = (name: string, cls: string) => ({ apiVersion: `${GW_GROUP}/v1`, kind: 'Gateway', metadata: { name, namespace: ns }, spec: { gatewayClassName: cls, listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } });
  await kube.client.apply(gateway('conformance-primary', ourClass));
  await kube.client.apply(gateway('theirs', theirClass));
  await kube.client.apply(route(ns, 'to-pool', ['conformance-primary', 'theirs'], 'primary-pool'));
  await kube.client.apply(route(ns, 'to-missing', ['conformance-primary'], 'missing-pool'));
  // Another controller's entry on the route, written before infergate starts: it must survive.
  const theirs: Parent = { parentRef: { name: 'theirs', sectionName: 'http' }, controllerName: 'example.com/other', conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', lastTransitionTime: '2025-01-01T00:00:00Z' }] };
  await kube.client.request('PATCH', resourcePath(HTTP_ROUTE, ns, 'to-pool', 'status'), { status: { parents: [{ ...theirs, conditions: [{ ...theirs.conditions[0], message: 'theirs' }] }] } }, 'application/merge-patch+json');

  const gw: RunningGateway = await env.serve(ns, { kube: { gatewayAddresses: ['127.0.104.1'] }, host: '127.0.104.1', configEdits: { allowEmptyConfig: true } });
  try {
    const ours = `conformance-primary by ${INFERGATE_CONTROLLER_NAME}`;
    await eventually('route parents written', 15_000, async () => JSON.stringify(await routeParents(ns, 'to-pool')) === JSON.stringify({ 'theirs by example.com/other': 'Accepted=True/Accepted', [ours]: ACCEPTED }));
    const toPool = (await status(HTTP_ROUTE, ns, 'to-pool')).parents as Parent[];
    const mine = toPool.find((p) => p.controllerName === INFERGATE_CONTROLLER_NAME)!;
    assert.deepEqual(mine.parentRef, { group: GW_GROUP, kind: 'Gateway', namespace: ns, name: 'conformance-primary', sectionName: 'http' });
    assert.equal(mine.conditions[0]?.observedGeneration, 1);
    assert.ok(mine.conditions.every((c) => typeof c.lastTransitionTime === 'string'));

    // HTTPRouteInvalidInferencePoolRef: Accepted, but ResolvedRefs False/BackendNotFound; the data plane says 500.
    await eventually('missing pool reported', 15_000, async () => (await routeParents(ns, 'to-missing'))[ours] === 'Accepted=True/Accepted, ResolvedRefs=False/BackendNotFound');
    const res = await request(`${gw.url}/health`, { headers: { host: 'to-missing.example.com' } });
    await res.body.dump();
    assert.equal(res.statusCode, 500);

    // The Gateway of our class: Accepted and Programmed, --gateway-address, one listener with both routes attached.
    await eventually('gateway status written', 15_000, async () => summary((await status(GATEWAY, ns, 'conformance-primary')).conditions as Condition[]) === 'Accepted=True/Accepted, Programmed=True/Programmed');
    const listeners = (await status(GATEWAY, ns, 'conformance-primary')).listeners as { name: string; attachedRoutes: number; supportedKinds: unknown; conditions: Condition[] }[];
    assert.deepEqual(listeners.map((l) => [l.name, l.attachedRoutes, l.supportedKinds, summary(l.conditions)]), [
      ['http', 2, [{ group: GW_GROUP, kind: 'HTTPRoute' }], 'Accepted=True/Accepted, Programmed=True/Programmed, ResolvedRefs=True/ResolvedRefs'],
    ]);
    assert.deepEqual((await status(GATEWAY, ns, 'conformance-primary')).addresses, [{ type: 'IPAddress', value: '127.0.104.1' }]);
    await eventually('our class accepted', 15_000, async () => summary((await status(GATEWAY_CLASS, undefined, ourClass)).conditions as Condition[]) === 'Accepted=True/Accepted');
    assert.deepEqual(await status(GATEWAY, ns, 'theirs'), {});
    assert.deepEqual(await status(GATEWAY_CLASS, undefined, theirClass), {});

    // Creating the pool resolves the ref, keeping Accepted's transition time.
    const before = ((await status(HTTP_ROUTE, ns, 'to-missing')).parents as Parent[])[0]!.conditions.find((c) => c.type === 'Accepted')!.lastTransitionTime;
    await kube.client.apply({ apiVersion: 'inference.networking.k8s.io/v1', kind: 'InferencePool', metadata: { name: 'missing-pool', namespace: ns }, spec: { selector: { matchLabels: { app: 'primary' } }, targetPorts: [{ number: fleet.port }] } });
    await eventually('missing pool resolved', 15_000, async () => (await routeParents(ns, 'to-missing'))[ours] === ACCEPTED);
    const afterFix = ((await status(HTTP_ROUTE, ns, 'to-missing')).parents as Parent[])[0]!.conditions.find((c) => c.type === 'Accepted')!.lastTransitionTime;
    assert.equal(afterFix, before);

    // A route that stops naming our Gateway loses our entry; the other controller's stays.
    await kube.client.apply(route(ns, 'to-pool', ['theirs'], 'primary-pool'));
    await eventually('our entry removed', 15_000, async () => JSON.stringify(await routeParents(ns, 'to-pool')) === JSON.stringify({ 'theirs by example.com/other': 'Accepted=True/Accepted' }));
    await eventually('attachedRoutes drops to 1', 15_000, async () => ((await status(GATEWAY, ns, 'conformance-primary')).listeners as { attachedRoutes: number }[])[0]?.attachedRoutes === 1);
  } finally {
    await gw.close();
  }
});
