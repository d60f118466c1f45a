/** The Kubernetes test harness itself: a real API server, the CRDs, pods with kubelet-like status, SA tokens under RBAC, restarts. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { allowlistYaml, poolYaml, prefixRouteYaml } from '../helpers/fleet.js';
import { applyCrds, createNamespace, startLocalKube, type LocalKube } from '../helpers/local-kube.js';
import { CONFIG_MAP, HTTP_ROUTE, INFERENCE_POOL, KubeApiError, POD } from '../helpers/kube-test-client.js';

let kube: LocalKube;

before(async () => {
  kube = await startLocalKube();
  await applyCrds(kube.client);
});

after(async () => {
  await kube?.close();
});

const forbidden = (e: unknown): boolean => e instanceof KubeApiError && e.status === 403 && e.reason === 'Forbidden';

test('the resources infergate reads round-trip through the API server, pods get kubelet-like status', async () => {
  const { client } = kube;
  const ns = await createNamespace(client);
  await client.applyYaml(poolYaml('gemma', { app: 'gemma' }, 8000, ns));
  await client.applyYaml(prefixRouteYaml('all', '/v1/', 'gemma', ns));
  await client.applyYaml(allowlistYaml('gemma-adapters', 'google/gemma-2b-it', ['sql-lora', 'chat-lora'], ns));
  await client.createPod(ns, 'gemma-0', { app: 'gemma' });
  await client.setPodStatus(ns, 'gemma-0', { ip: '127.0.50.2', ready: true });

  const pool = (await client.get(INFERENCE_POOL, ns, 'gemma'))!;
  assert.deepEqual(pool.spec, { selector: { matchLabels: { app: 'gemma' } }, targetPorts: [{ number: 8000 }] });
  const route = (await client.get(HTTP_ROUTE, ns, 'all'))!;
  assert.deepEqual((route.spec as { rules: unknown[] }).rules[0], {
    matches: [{ path: { type: 'PathPrefix', value: '/v1/' } }],
    backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'gemma', weight: 1 }],
  });
  // The schema defaults what Gateway API's CRDs default, so the gateway sees what a real cluster stores.
  const bare = await client.apply({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'bare', namespace: ns },
    spec: { parentRefs: [{ name: 'infergate' }], rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] },
  });
  assert.deepEqual(bare.spec, {
    parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'infergate' }],
    rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ kind: 'Service', name: 'svc', port: 80, weight: 1 }] }],
  });
  const cm = (await client.get(CONFIG_MAP, ns, 'gemma-adapters'))!;
  assert.equal(cm.metadata.labels?.['inference.networking.k8s.io/bbr-managed'], 'true');
  assert.equal((cm.data as Record<string, string>).adapters, '- sql-lora\n- chat-lora\n');
  const pod = (await client.get(POD, ns, 'gemma-0'))!;
  assert.deepEqual(
    { ...(pod.status as { podIP: string; phase: string }), conditions: (pod.status as { conditions: { type: string; status: string }[] }).conditions.map(({ type, status }) => ({ type, status })) },
    { phase: 'Running', podIP: '127.0.50.2', podIPs: [{ ip: '127.0.50.2' }], qosClass: 'BestEffort', conditions: [{ type: 'Ready', status: 'True' }] },
  );
  await client.setPodStatus(ns, 'gemma-0', { ip: '127.0.50.2', ready: false });
  assert.equal(((await client.get(POD, ns, 'gemma-0'))!.status as { conditions: { status: string }[] }).conditions[0]!.status, 'False');

  // The CRDs' schemas are enforced (no CEL on 1.20, but types and bounds are).
  await assert.rejects(client.applyYaml(poolYaml('bad', { app: 'x' }, 99999, ns)), (e) => e instanceof KubeApiError && e.status === 422);

  // The status subresource takes what a controller writes; the label can be taken off an allowlist.
  const parents = [{ parentRef: { kind: 'Gateway', name: 'infergate' }, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }] }];
  await client.patchStatus(INFERENCE_POOL, ns, 'gemma', { parents });
  assert.deepEqual(((await client.get(INFERENCE_POOL, ns, 'gemma'))!.status as { parents: unknown }).parents, parents);
  await client.labelConfigMap(ns, 'gemma-adapters', { 'inference.networking.k8s.io/bbr-managed': null });
  assert.equal((await client.list(CONFIG_MAP, ns, 'inference.networking.k8s.io/bbr-managed=true')).length, 0);
  assert.equal(await client.delete(CONFIG_MAP, ns, 'gemma-adapters'), true);
  assert.equal(await client.get(CONFIG_MAP, ns, 'gemma-adapters'), undefined);
});

test('a ServiceAccount token from the TokenRequest API is held to its Role', async () => {
  const { client } = kube;
  const ns = await createNamespace(client);
  const other = await createNamespace(client);
  await client.applyYaml(poolYaml('gemma', { app: 'gemma' }, 8000, ns));
  const token = await client.createToken(ns, 'infergate');
  await client.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'reader', namespace: ns },
    rules: [
      { apiGroups: [''], resources: ['pods', 'configmaps'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['inference.networking.k8s.io'], resources: ['inferencepools'], verbs: ['get', 'list', 'watch'] },
    ],
  });
  await client.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'reader', namespace: ns },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'infergate', namespace: ns }],
  });
  const sa = client.withToken(token);
  // The authorizer learns new bindings from its own watch, a moment after the write.
  let pods: unknown[] | undefined;
  for (let i = 0; i < 50 && !pods; i++) {
    pods = await sa.list(POD, ns).catch((e: unknown) => (forbidden(e) ? undefined : Promise.reject(e)));
    if (!pods) await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(pods, [], 'list pods is granted');
  assert.equal((await sa.list(INFERENCE_POOL, ns)).length, 1);
  await assert.rejects(sa.patchStatus(INFERENCE_POOL, ns, 'gemma', { parents: [] }), (e) => forbidden(e) && /inferencepools\/status/.test((e as Error).message));
  await assert.rejects(sa.list(POD, other), forbidden, 'the Role grants nothing outside its namespace');
  await assert.rejects(client.withToken('not-a-token').list(POD, ns), (e) => e instanceof KubeApiError && e.status === 401);
});

test('the API server stops and restarts on the same port and certificates; the old kubeconfig and the data survive', async () => {
  const { client } = kube;
  const ns = await createNamespace(client);
  await client.applyYaml(poolYaml('gemma', { app: 'gemma' }, 8000, ns));

  await kube.stopApiServer();
  await assert.rejects(client.get(INFERENCE_POOL, ns, 'gemma'), /ECONNREFUSED|connect/);
  await kube.restartApiServer();

  // @kubernetes/client-node (what the gateway uses) loads local-kube's kubeconfig file as written.
  const kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  assert.equal(kc.getCurrentCluster()?.server, kube.server);
  const core = kc.makeApiClient(CoreV1Api);
  assert.deepEqual((await core.listNamespacedPod({ namespace: ns })).items, []);
  assert.ok(await client.get(INFERENCE_POOL, ns, 'gemma'), 'the pool is still in etcd');
});
