import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeKubeApi, type FakeObject } from '../../../test/helpers/fake-kube-api.js';
import { until } from '../../../test/helpers/until.js';
import { createLogger, type Logger } from '../../logger.js';
import type { ConfigSnapshot } from '../snapshot.js';
import { KubeConfigSource } from './kube-source.js';
import { CONFIG_MAPS, GATEWAY_CLASSES, HTTP_ROUTES, INFERENCE_OBJECTIVES, INFERENCE_POOLS, LEGACY_INFERENCE_MODEL_REWRITES, LEGACY_INFERENCE_OBJECTIVES, PODS, SERVICES, collectionPath } from './resource-types.js';

const api = new FakeKubeApi();
const log = createLogger(process.env.INFERGATE_TEST_LOG === 'debug' ? 'debug' : 'silent');
before(() => api.start());
after(() => api.stop());

const paths = (ns: string) => ({
  pools: collectionPath(INFERENCE_POOLS, ns),
  routes: collectionPath(HTTP_ROUTES, ns),
  cms: collectionPath(CONFIG_MAPS, ns),
  pods: collectionPath(PODS, ns),
});

function pool(ns: string, name: string, matchLabels: Record<string, string>, annotations: Record<string, string> = {}): FakeObject {
  return { apiVersion: INFERENCE_POOLS.apiVersion, kind: 'InferencePool', metadata: { name, namespace: ns, annotations }, spec: { selector: { matchLabels }, targetPorts: [{ number: 8000 }] } };
}

function pod(ns: string, name: string, labels: Record<string, string>, ip: string, ready = true, extra: Record<string, unknown> = {}): FakeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels, ...extra }, spec: {}, status: { podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } };
}

function allowlist(ns: string, name: string, base: string, adapters: string[], labelled = true): FakeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: ns, labels: labelled ? { 'inference.networking.k8s.io/bbr-managed': 'true' } : {} },
    data: { baseModel: base, adapters: adapters.map((a) => `- ${a}`).join('\n') },
  };
}

interface Harness {
  source: KubeConfigSource;
  applied: ConfigSnapshot[];
  last(): ConfigSnapshot | undefined;
  close(): Promise<void>;
}

function startSource(ns: string, opts: { newWatchGraceMs?: number; debounceMs?: number; followPickerRefs?: boolean; log?: Logger } = {}): Harness {
  const applied: ConfigSnapshot[] = [];
  const source = new KubeConfigSource({
    client: api.client(ns),
    log,
    debounceMs: 5,
    ...opts,
    reflector: { backoff: { initialMs: 20, maxMs: 100, jitter: 0 }, optionalRetryMs: 60_000, watchTimeoutSeconds: 30 },
    apply: async (s) => {
      applied.push(s);
    },
  });
  source.start();
  return { source, applied, last: () => applied.at(-1), close: () => source.close() };
}

const podNames = (s: ConfigSnapshot | undefined, poolKey: string): string[] => (s?.members.get(poolKey) ?? []).map((m) => m.pod.meta.name).sort();

test('the first snapshot waits until every list, including the pods of each pool, is in; then it follows pod changes', async () => {
  const ns = 'first-sync';
  const p = paths(ns);
  api.put(p.pools, pool(ns, 'gemma', { app: 'gemma' }));
  api.put(p.pods, pod(ns, 'g0', { app: 'gemma' }, '10.1.0.1'));
  api.put(p.pods, pod(ns, 'other', { app: 'llama' }, '10.1.0.9'));
  const h = startSource(ns);
  const first = await h.source.firstSync();
  assert.equal(h.applied.length, 1, 'one snapshot, not one per list');
  assert.deepEqual(podNames(first, `${ns}/gemma`), ['g0']);
  assert.equal(first.pods.length, 1, 'only pods a pool selects are watched');
  api.put(p.pods, pod(ns, 'g1', { app: 'gemma' }, '10.1.0.2'));
  await until(() => podNames(h.last(), `${ns}/gemma`).join() === 'g0,g1', 'the new pod');
  api.put(p.pods, pod(ns, 'g0', { app: 'gemma' }, '10.1.0.1', false));
  await until(() => h.last()!.pods.find((x) => x.meta.name === 'g0')?.ready === false, 'g0 not ready');
  // A terminating pod is left out: it is draining.
  api.put(p.pods, pod(ns, 'g1', { app: 'gemma' }, '10.1.0.2', true, { deletionTimestamp: '2026-01-01T00:00:00Z' }));
  await until(() => !h.last()!.pods.some((x) => x.meta.name === 'g1'), 'the terminating pod to leave');
  await h.close();
});

test('status churn of a pod (no change in labels, IP or readiness) builds no new snapshot', async () => {
  const ns = 'churn';
  const p = paths(ns);
  api.put(p.pools, pool(ns, 'gemma', { app: 'gemma' }));
  api.put(p.pods, pod(ns, 'g0', { app: 'gemma' }, '10.2.0.1'));
  const h = startSource(ns);
  await h.source.firstSync();
  const before = h.applied.length;
  const churned = pod(ns, 'g0', { app: 'gemma' }, '10.2.0.1');
  (churned.status as Record<string, unknown>).containerStatuses = [{ name: 'vllm', restartCount: 3 }];
  api.put(p.pods, churned);
  api.put(p.pods, pod(ns, 'g0', { app: 'gemma', extra: 'label' }, '10.2.0.1'));
  await until(() => h.applied.length > before, 'the label change');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(h.applied.length, before + 1, 'only the label change made a snapshot');
  await h.close();
});

test("a pod's infergate.io/ annotations (its KV-event ports) build a new snapshot when they change; other annotations do not", async () => {
  const ns = 'pod-annotations';
  const p = paths(ns);
  api.put(p.pools, pool(ns, 'gemma', { app: 'gemma' }));
  const annotated = (annotations: Record<string, string>): FakeObject => pod(ns, 'g0', { app: 'gemma' }, '10.2.1.1', true, { annotations });
  api.put(p.pods, annotated({}));
  const h = startSource(ns);
  try {
    await h.source.firstSync();
    const before = h.applied.length;
    api.put(p.pods, annotated({ 'prometheus.io/scrape': 'true' }));
    api.put(p.pods, annotated({ 'prometheus.io/scrape': 'true', 'infergate.io/kv-events-port': '5600' }));
    await until(() => h.last()?.members.get(`${ns}/gemma`)?.[0]?.pod.meta.annotations['infergate.io/kv-events-port'] === '5600', 'the annotated pod');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(h.applied.length, before + 1, 'only the infergate.io/ annotation made a snapshot');
  } finally {
    await h.close();
  }
});

test("editing a pool's selector swaps its pod watch and moves the pool to the newly selected pods", async () => {
  const ns = 'selector';
  const p = paths(ns);
  api.put(p.pools, pool(ns, 'gemma', { app: 'blue' }));
  api.put(p.pods, pod(ns, 'blue-0', { app: 'blue' }, '10.3.0.1'));
  api.put(p.pods, pod(ns, 'green-0', { app: 'green' }, '10.3.0.2'));
  const h = startSource(ns);
  await h.source.firstSync();
  assert.deepEqual(podNames(h.last(), `${ns}/gemma`), ['blue-0']);
  api.put(p.pools, pool(ns, 'gemma', { app: 'green' }));
  await until(() => podNames(h.last(), `${ns}/gemma`).join() === 'green-0', 'the move to green');
  // No snapshot ever had the pool without pods: the new watch was listed before the change was applied.
  assert.ok(h.applied.every((s) => podNames(s, `${ns}/gemma`).length === 1));
  const podWatches = h.source.reflectors().filter((r) => r.type === PODS);
  assert.deepEqual(podWatches.map((r) => r.selector), ['app=green'], 'the blue watch was closed');
  await h.close();
});

test('an invalid object is left out and reported while every other change still applies; fixed, it comes back', async () => {
  const ns = 'invalid';
  const p = paths(ns);
  api.put(p.pools, pool(ns, 'gemma', { app: 'gemma' }));
  api.put(p.pods, pod(ns, 'g0', { app: 'gemma' }, '10.4.0.1'));
  const broken = pool(ns, 'broken', { app: 'x' });
  (broken.spec as Record<string, unknown>).targetPorts = [];
  api.put(p.pools, broken);
  api.put(p.cms, allowlist(ns, 'gemma-allowlist', 'google/gemma-2b-it', ['sql-lora']));
  const h = startSource(ns);
  await h.source.firstSync();
  assert.deepEqual([...h.last()!.pools.keys()], [`${ns}/gemma`]);
  assert.match(h.source.rejected.get(`InferencePool/${ns}/broken`)?.join() ?? '', /targetPorts/);
  // A change elsewhere is not held up by the broken pool.
  api.put(p.cms, allowlist(ns, 'gemma-allowlist', 'google/gemma-2b-it', ['sql-lora', 'chat-lora']));
  await until(() => h.last()!.allowlistTable.adapters.has('chat-lora'), 'the new adapter');
  api.put(p.pools, pool(ns, 'broken', { app: 'x' }));
  await until(() => h.last()!.pools.has(`${ns}/broken`), 'the fixed pool');
  assert.equal(h.source.rejected.size, 0);
  await h.close();
});

test('an invalid object deleted is logged as gone, not as valid again', async () => {
  const ns = 'invalid-deleted';
  const p = paths(ns);
  api.put(p.pools, pool(ns, 'gemma', { app: 'gemma' }));
  const broken = pool(ns, 'broken', { app: 'x' });
  (broken.spec as Record<string, unknown>).targetPorts = [];
  api.put(p.pools, broken);
  const lines: string[] = [];
  const h = startSource(ns, { log: createLogger('info', (l) => lines.push(l)) });
  await h.source.firstSync();
  assert.ok(lines.some((l) => l.includes(`ignoring InferencePool ${ns}/broken until it is fixed`)));
  api.remove(p.pools, 'broken');
  await until(() => h.source.rejected.size === 0, 'the deleted pool no longer set aside');
  assert.ok(lines.some((l) => l.includes(`InferencePool ${ns}/broken, which was ignored as invalid, is gone`)), lines.join('\n'));
  assert.ok(!lines.some((l) => l.includes('is valid again')), lines.join('\n'));
  await h.close();
});

test('allowlists: unlabelling or deleting a ConfigMap removes its adapters; adapter conflicts are warnings, not a frozen config', async () => {
  const ns = 'allowlists';
  const p = paths(ns);
  api.put(p.cms, allowlist(ns, 'a', 'base-a', ['lora-1']));
  api.put(p.cms, allowlist(ns, 'b', 'base-b', ['lora-2']));
  const h = startSource(ns);
  await h.source.firstSync();
  assert.deepEqual([...h.last()!.allowlistTable.adapters.keys()].sort(), ['lora-1', 'lora-2']);
  api.put(p.cms, allowlist(ns, 'a', 'base-a', ['lora-1'], false));
  await until(() => !h.last()!.allowlistTable.adapters.has('lora-1'), 'the unlabelled ConfigMap to drop out');
  api.remove(p.cms, 'b');
  await until(() => h.last()!.allowlistTable.adapters.size === 0, 'the deleted ConfigMap to drop out');
  api.put(p.cms, allowlist(ns, 'c', 'base-c', ['shared']));
  api.put(p.cms, allowlist(ns, 'd', 'base-d', ['shared']));
  await until(() => h.last()!.allowlists.length === 2, 'both ConfigMaps');
  assert.ok(h.last()!.warnings.some((w) => /adapter "shared" maps to base/.test(w)));
  // Left out, as the docs say, not given to whichever ConfigMap this replica listed first (another replica, or this
  // one after a restart, lists them by name and would pick the other).
  assert.equal(h.last()!.allowlistTable.adapters.get('shared'), undefined);
  api.remove(p.cms, 'c');
  await until(() => h.last()!.allowlistTable.adapters.get('shared')?.base === 'base-d', 'the adapter back once one claim is left');
  await h.close();
});

test("llm-d's names: ipp-managed allowlists and llm-d.ai objectives are read beside the legacy ones; a missing legacy CRD is normal", async () => {
  const ns = 'llmd-names';
  const p = paths(ns);
  const legacyObjectives = collectionPath(LEGACY_INFERENCE_OBJECTIVES, ns);
  api.hide(collectionPath(LEGACY_INFERENCE_MODEL_REWRITES, ns));
  api.put(p.pools, pool(ns, 'qwen', { app: 'qwen' }));
  api.put(p.cms, { ...allowlist(ns, 'new', 'base-new', ['lora-new'], false), metadata: { name: 'new', namespace: ns, labels: { 'inference.llm-d.ai/ipp-managed': 'true' } } });
  api.put(p.cms, allowlist(ns, 'old', 'base-old', ['lora-old']));
  // Both labels on one ConfigMap: it comes from both watches and is read once (no duplicate, no conflict).
  api.put(p.cms, { ...allowlist(ns, 'both', 'base-both', ['lora-both']), metadata: { name: 'both', namespace: ns, labels: { 'inference.llm-d.ai/ipp-managed': 'true', 'inference.networking.k8s.io/bbr-managed': 'true' } } });
  const objective = (apiVersion: string, name: string, priority: number): FakeObject => ({ apiVersion, kind: 'InferenceObjective', metadata: { name, namespace: ns }, spec: { priority, poolRef: { name: 'qwen' } } });
  api.put(legacyObjectives, objective(LEGACY_INFERENCE_OBJECTIVES.apiVersion, 'batch', 5));
  const h = startSource(ns);
  await h.source.firstSync();
  assert.deepEqual([...h.last()!.allowlistTable.adapters.keys()].sort(), ['lora-both', 'lora-new', 'lora-old']);
  assert.equal(h.last()!.objectives.get(`${ns}/qwen`)?.get('batch')?.priority, 5, 'the legacy objective serves while it is the only one');
  api.put(collectionPath(INFERENCE_OBJECTIVES, ns), objective(INFERENCE_OBJECTIVES.apiVersion, 'batch', -1));
  await until(() => h.last()!.objectives.get(`${ns}/qwen`)?.get('batch')?.priority === -1, "llm-d's objective to win");
  assert.ok(h.last()!.warnings.some((w) => /in llm-d\.ai, so those in inference\.networking\.x-k8s\.io are ignored/.test(w)));
  await h.close();
  api.hide(collectionPath(LEGACY_INFERENCE_MODEL_REWRITES, ns), false);
});

test('a ConfigMap a pool names for its EndpointPickerConfig is watched by name, and unwatched when the annotation goes', async () => {
  const ns = 'eppcm';
  const p = paths(ns);
  api.put(p.pools, pool(ns, 'gemma', { app: 'gemma' }, { 'infergate.io/endpoint-picker-config': 'gemma-epp' }));
  api.put(p.cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gemma-epp', namespace: ns }, data: { 'config.yaml': 'x: 1' } });
  api.put(p.cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unrelated', namespace: ns }, data: { big: 'y' } });
  const h = startSource(ns);
  await h.source.firstSync();
  assert.deepEqual([...h.last()!.configMaps.keys()], [`${ns}/gemma-epp`]);
  api.put(p.pools, pool(ns, 'gemma', { app: 'gemma' }));
  await until(() => h.last()!.configMaps.size === 0, 'the EPP ConfigMap to leave with the annotation');
  assert.ok(!h.source.reflectors().some((r) => r.selector.includes('metadata.name=')));
  await h.close();
});

test('not ready says which list it waits for and why, and that nothing is in force yet; a forbidden list holds the first sync back', async (t) => {
  const ns = 'forbidden';
  const p = paths(ns);
  api.forbid(p.routes);
  const h = startSource(ns);
  t.after(() => h.close());
  await until(() => /httproutes\.gateway\.networking\.k8s\.io in namespace forbidden \(.*403 Forbidden/.test(h.source.notReadyReason()), 'the reason');
  assert.equal(h.applied.length, 0);
  // Nothing is in force yet, so /readyz must not say that a configuration keeps serving.
  const problems = h.source.watchProblems();
  api.forbid(p.routes, false);
  assert.equal(problems?.effect, 'no configuration is in force yet: this replica stays unready until these watches have listed');
  await h.source.firstSync();
  api.forbid(p.routes);
  api.endWatches();
  await until(() => h.source.watchProblems() !== undefined, 'the routes watch to fail again');
  const later = h.source.watchProblems();
  api.forbid(p.routes, false);
  assert.match(later!.effect, /^the configuration in force keeps serving/);
});

test("after the first sync, a new pool's pod watch that cannot list does not freeze other changes forever, and is warned about once", async () => {
  const ns = 'grace';
  const p = paths(ns);
  api.put(p.cms, allowlist(ns, 'a', 'base-a', ['lora-1']));
  const lines: string[] = [];
  const h = startSource(ns, { newWatchGraceMs: 200, log: createLogger('info', (l) => lines.push(l)) });
  try {
    await h.source.firstSync();
    api.forbid(p.pods);
    api.put(p.pools, pool(ns, 'new', { app: 'new' }));
    api.put(p.cms, allowlist(ns, 'a', 'base-a', ['lora-1', 'lora-2']));
    await until(() => h.last()!.allowlistTable.adapters.has('lora-2'), 'the allowlist change despite the stuck pod list', 3000);
    assert.equal(h.last()!.members.get(`${ns}/new`)?.length, 0);
    // Later changes while the list is still stuck apply at once, without the same warning again.
    api.put(p.cms, allowlist(ns, 'a', 'base-a', ['lora-1', 'lora-2', 'lora-3']));
    await until(() => h.last()!.allowlistTable.adapters.has('lora-3'), 'the next change');
    assert.equal(lines.filter((l) => /WARN .*applying the change without pods in namespace grace \(app=new\)/.test(l)).length, 1, lines.join('\n'));
  } finally {
    api.forbid(p.pods, false);
    await h.close();
  }
});

test('pools deleted one after another (a CRD or namespace being deleted) arrive as one change, so the edit guard sees every pool go', async () => {
  const ns = 'removal-burst';
  const p = paths(ns);
  for (const name of ['a', 'b', 'c']) api.put(p.pools, pool(ns, name, { app: name }));
  const h = startSource(ns);
  await h.source.firstSync();
  const before = h.applied.length;
  // As the API server's CRD finalizer deletes them: one at a time, further apart than the debounce.
  for (const name of ['a', 'b', 'c']) {
    api.remove(p.pools, name);
    await new Promise((r) => setTimeout(r, 40));
  }
  await until(() => h.last()!.pools.size === 0, 'every pool gone');
  assert.deepEqual(h.applied.slice(before).map((s) => s.pools.size), [0], 'no snapshot with only some of the pools gone');
  // An addition is not held up.
  api.put(p.pools, pool(ns, 'd', { app: 'd' }));
  await until(() => h.last()!.pools.size === 1, 'the new pool');
  await h.close();
});

test('a steady stream of events still yields a snapshot every window: events do not push the rebuild back', async () => {
  const ns = 'stream';
  const p = paths(ns);
  api.put(p.pools, pool(ns, 'gemma', { app: 'gemma' }));
  api.put(p.pods, pod(ns, 'g0', { app: 'gemma' }, '10.5.0.1'));
  const h = startSource(ns, { debounceMs: 30 });
  await h.source.firstSync();
  const before = h.applied.length;
  // One readiness flip every 5 ms for 400 ms: a trailing debounce of 30 ms would wait for the stream to end.
  const end = Date.now() + 400;
  for (let i = 0; Date.now() < end; i++) {
    api.put(p.pods, pod(ns, 'g0', { app: 'gemma' }, '10.5.0.1', i % 2 === 1));
    await new Promise((r) => setTimeout(r, 5));
  }
  const during = h.applied.length - before;
  assert.ok(during >= 4, `snapshots while events kept coming: ${during}`);
  await h.close();
});

test('with followPickerRefs, the Service each endpointPickerRef names is watched by name: present, absent, or left out while forbidden', async () => {
  const ns = 'picker-refs';
  const p = paths(ns);
  const svcs = collectionPath(SERVICES, ns);
  const withRef = (name: string, ref: Record<string, unknown>): FakeObject => {
    const base = pool(ns, name, { app: name });
    return { ...base, spec: { ...(base.spec as object), endpointPickerRef: ref } };
  };
  api.put(p.pools, withRef('gemma', { name: 'gemma-epp', port: { number: 9002 } }));
  api.put(p.pools, withRef('llama', { name: 'gone-epp', port: { number: 9002 } }));
  api.put(p.pools, withRef('other', { kind: 'Deployment', group: 'apps', name: 'x' }));
  api.put(svcs, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'gemma-epp', namespace: ns }, spec: { ports: [{ port: 9002 }] } });
  api.put(svcs, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'unrelated', namespace: ns }, spec: { ports: [{ port: 80 }] } });
  const h = startSource(ns, { followPickerRefs: true });
  const first = await h.source.firstSync();
  assert.deepEqual(Object.fromEntries(first.services ?? []), { [`${ns}/gemma-epp`]: { type: 'ClusterIP', ports: [9002] }, [`${ns}/gone-epp`]: null });
  api.put(svcs, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'gone-epp', namespace: ns }, spec: { type: 'ExternalName' } });
  await until(() => h.last()!.services?.get(`${ns}/gone-epp`)?.type === 'ExternalName', 'the new Service');
  api.remove(svcs, 'gemma-epp');
  await until(() => h.last()!.services?.get(`${ns}/gemma-epp`) === null, 'the deleted Service');
  await h.close();

  // Forbidden: the source still syncs (Services are optional), and the names are left out, not reported absent.
  api.forbid(svcs);
  const f = startSource(ns, { followPickerRefs: true });
  assert.deepEqual([...((await f.source.firstSync()).services ?? new Map()).keys()], []);
  await f.close();
  api.forbid(svcs, false);

  // Without the option (extproc, explain) no Service is watched and the snapshot says nothing of them.
  const off = startSource(ns);
  assert.equal((await off.source.firstSync()).services, undefined);
  assert.ok(!off.source.reflectors().some((r) => r.type === SERVICES));
  await off.close();
});

test('a first sync that finds no InferencePool warns, naming the namespace watched (a --namespace typo serves nothing)', async () => {
  api.put(paths('pools-here').pools, pool('pools-here', 'gemma', { app: 'gemma' }));
  for (const ns of ['no-pools-here', 'pools-here']) {
    const lines: string[] = [];
    const source = new KubeConfigSource({ client: api.client(ns), log: createLogger('info', (l) => lines.push(l)), debounceMs: 5, reflector: { optionalRetryMs: 60_000, watchTimeoutSeconds: 30 }, apply: async () => undefined });
    source.start();
    try {
      await source.firstSync();
      const warned = lines.filter((l) => /WARN .*has no InferencePool in namespace/.test(l));
      if (ns === 'pools-here') assert.deepEqual(warned, []);
      else assert.match(warned.join('\n'), /has no InferencePool in namespace no-pools-here, so every request gets 404 model_not_found until one is created; if the pools are elsewhere, check --namespace and --context/);
    } finally {
      await source.close();
    }
  }
});

test('a pool naming its EndpointPickerConfig ConfigMap or picker Service by a name no object can have opens no watch, so readiness is not held back for every pool', async () => {
  const ns = 'unnameable';
  const p = paths(ns);
  const bad = pool(ns, 'bad', { app: 'bad' }, { 'infergate.io/endpoint-picker-config': 'epp,cfg' });
  api.put(p.pools, { ...bad, spec: { ...(bad.spec as object), endpointPickerRef: { name: 'Gemma EPP', port: { number: 9002 } } } });
  api.put(p.pools, pool(ns, 'good', { app: 'good' }));
  api.put(p.pods, pod(ns, 'g0', { app: 'good' }, '10.6.0.1'));
  const h = startSource(ns, { followPickerRefs: true });
  try {
    const first = await h.source.firstSync();
    assert.deepEqual(podNames(first, `${ns}/good`), ['g0']);
    assert.ok(first.pools.has(`${ns}/bad`), 'the pool itself is served; its config and ref are reported where they are used');
    // No object can be named so: the Service counts as absent (ResolvedRefs False), without a watch that cannot list.
    assert.equal(first.services?.get(`${ns}/Gemma EPP`), null);
    assert.deepEqual(h.source.reflectors().filter((r) => r.selector.includes('metadata.name=')).map((r) => r.selector), []);
  } finally {
    await h.close();
  }
});

test('GatewayClasses forbidden under a namespaced Role (the standalone overlay) is the expected state: logged at info, saying so', async () => {
  const classes = collectionPath(GATEWAY_CLASSES, undefined);
  api.forbid(classes);
  const lines: string[] = [];
  const source = new KubeConfigSource({ client: api.client('classes'), log: createLogger('info', (l) => lines.push(l)), debounceMs: 5, followGateways: true, reflector: { optionalRetryMs: 60_000, watchTimeoutSeconds: 30 }, apply: async () => undefined });
  source.start();
  try {
    await source.firstSync();
    const about = lines.filter((l) => l.includes('gatewayclasses.gateway.networking.k8s.io in all namespaces'));
    assert.equal(about.length, 1, lines.join('\n'));
    assert.match(about[0]!, /INFO .*access is forbidden .*; expected with a namespaced Role, which cannot grant cluster-scoped GatewayClasses: every Gateway of the namespace counts as this gateway's unless --gateway-name picks one; running without GatewayClasses/);
  } finally {
    api.forbid(classes, false);
    await source.close();
  }
});

test("what the readers warn about in one object (an unknown spec key, an allowlist entry skipped as llm-d skips it) is logged once, as a file's is", async () => {
  const ns = 'reader-warnings';
  const p = pool(ns, 'gemma', { app: 'gemma' });
  (p.spec as Record<string, unknown>).targetPort = 8000;
  api.put(paths(ns).pools, p);
  api.put(paths(ns).pods, pod(ns, 'g1', { app: 'gemma' }, '10.9.0.1'));
  api.put(paths(ns).cms, allowlist(ns, 'gemma-adapters', 'gemma', ['sql-lora', "''"]));
  const lines: string[] = [];
  const h = startSource(ns, { log: createLogger('info', (l) => lines.push(l)) });
  try {
    await h.source.firstSync();
    const snapshot = h.last()!;
    assert.ok(snapshot.pools.has(`${ns}/gemma`), 'an object with warnings only is used');
    assert.match(snapshot.warnings.join('\n'), /InferencePool reader-warnings\/gemma: field spec\.targetPort:/);
    assert.match(snapshot.warnings.join('\n'), /ConfigMap reader-warnings\/gemma-adapters: field data\.adapters\[1\]: is empty, so it is skipped/);
    // A later change (a pod joining) rebuilds the snapshot: the same warnings are not logged again.
    api.put(paths(ns).pods, pod(ns, 'g2', { app: 'gemma' }, '10.9.0.2'));
    await until(() => podNames(h.last(), `${ns}/gemma`).length === 2, 'the second pod');
    const warned = lines.filter((l) => /WARN .*(spec\.targetPort|data\.adapters\[1\])/.test(l));
    assert.equal(warned.length, 2, warned.join('\n'));
  } finally {
    await h.close();
  }
});
