/**
 * `serve --kube` against a real API server (issue #6): allowlist ConfigMaps, pod readiness, pool selectors,
 * API server outages, InferencePool status, and least-privilege RBAC, with traffic through the gateway.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import OpenAI from 'openai';
import { parseAllDocuments } from 'yaml';
import { startGateway, type RunningGateway, type StartGatewayOptions } from '../../src/cli/start-gateway.js';
import type { KubeOptions } from '../../src/config/kube/connect.js';
import { createLogger } from '../../src/logger.js';
import { allowlistYaml, poolYaml, startFleet, type Fleet } from '../helpers/fleet.js';
import { applyCrds, createNamespace, repoRoot, startLocalKube, type LocalKube } from '../helpers/local-kube.js';
import { CONFIG_MAP, INFERENCE_POOL, KubeApiError, POD, type KubeObject } from '../helpers/kube-test-client.js';

const GEMMA = 'google/gemma-2b-it';
const SQL = 'gemma-sql-lora';
const CHAT = 'gemma-chat-lora';
const BBR_MANAGED = 'inference.networking.k8s.io/bbr-managed';
const CASE_TIMEOUT = { timeout: 45_000 };

let kube: LocalKube;
let fleet: Fleet;

before(async () => {
  kube = await startLocalKube();
  await applyCrds(kube.client);
  fleet = await startFleet(51, ['gemma-0', 'gemma-1', 'gemma-2'].map((name) => ({ name, labels: {}, model: GEMMA, loras: [SQL, CHAT], ttftMs: 1, itlMs: 1 })));
});

after(async () => {
  await fleet?.close();
  await kube?.close();
});

/** A fresh namespace with the pool `gemma` (selecting `selector`), an HTTPRoute to it under Gateway `infergate`, and these pods, Ready. */
async function namespaceWith(pods: Record<string, Record<string, string>>, selector: Record<string, string>): Promise<string> {
  const { client } = kube;
  const ns = await createNamespace(client);
  for (const [name, labels] of Object.entries(pods)) await addPod(ns, name, labels);
  await client.applyYaml(poolYaml('gemma', selector, fleet.port, ns));
  await client.apply({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'gemma', namespace: ns },
    spec: {
      parentRefs: [{ name: 'infergate' }],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/v1/' }, headers: [{ name: 'X-Gateway-Base-Model-Name', value: GEMMA }] }],
          backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'gemma' }],
        },
      ],
    },
  });
  return ns;
}

/** A pod of the fleet as a kubelet would report it: Running, the simulator's IP, Ready. */
async function addPod(ns: string, name: string, labels: Record<string, string>, ready = true): Promise<void> {
  await kube.client.createPod(ns, name, labels, fleet.port);
  await kube.client.setPodStatus(ns, name, { ip: fleet.ipOf(name), ready });
}

interface TestGateway {
  gw: RunningGateway;
  client: OpenAI;
  /** Every log line the gateway wrote. */
  lines: string[];
}

/** The gateway on `kube` (local-kube's admin kubeconfig unless given), logging into `lines` (INFERGATE_TEST_LOG=debug also prints). */
async function kubeGateway(ns: string, opts: Partial<KubeOptions> & Omit<StartGatewayOptions, 'kube'> = {}): Promise<TestGateway> {
  const { kubeconfig, writePoolStatus, reflector, ...rest } = opts;
  const lines: string[] = [];
  const echo = process.env.INFERGATE_TEST_LOG as 'debug' | undefined;
  const log = createLogger(echo ?? 'info', (l) => {
    lines.push(l);
    if (echo) process.stderr.write(`${l}\n`);
  });
  const gw = await startGateway({
    kube: { kubeconfig: kubeconfig ?? kube.kubeconfigPath, namespace: ns, writePoolStatus: writePoolStatus ?? false, ...(reflector ? { reflector } : {}) },
    host: '127.0.0.1',
    port: 0,
    log,
    ...rest,
  });
  return { gw, client: new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 5000 }), lines };
}

let prompts = 0;

/** One completion; returns the pod that served it (the simulator's x-inference-pod header). */
async function complete(client: OpenAI, model: string): Promise<string> {
  // Distinct prompts, so that prefix-cache affinity does not pin every request to one pod.
  const { data, response } = await client.completions.create({ model, prompt: `p${prompts++}`, max_tokens: 1 }).withResponse();
  assert.equal(data.model, model);
  return response.headers.get('x-inference-pod') ?? '(no x-inference-pod header)';
}

const modelNotFound = (e: unknown): boolean => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found';

/** Polls `check` every 10 ms; resolves with the ms until it first held, or rejects naming `what` and the last error. */
async function within(what: string, timeoutMs: number, check: () => Promise<boolean>, from = Date.now()): Promise<number> {
  let last: unknown;
  while (Date.now() - from < timeoutMs) {
    try {
      if (await check()) return Date.now() - from;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? `; last error: ${(last as Error).message}` : ''}`);
}

const routable = (client: OpenAI, model: string) => async (): Promise<boolean> => (await complete(client, model), true);
const notFound = (client: OpenAI, model: string) => async (): Promise<boolean> => {
  try {
    await complete(client, model);
    return false;
  } catch (e) {
    if (modelNotFound(e)) return true;
    throw e;
  }
};

/** Sends `n` requests, four at a time; returns how many each pod served. */
async function spread(client: OpenAI, model: string, n: number): Promise<Map<string, number>> {
  const served = new Map<string, number>();
  for (let i = 0; i < n; i += 4) {
    const pods = await Promise.all(Array.from({ length: Math.min(4, n - i) }, () => complete(client, model)));
    for (const p of pods) served.set(p, (served.get(p) ?? 0) + 1);
  }
  return served;
}

test('(a) an allowlist ConfigMap makes its adapter routable within 1 s; deleting it or removing its label stops routing', CASE_TIMEOUT, async (t) => {
  const ns = await namespaceWith({ 'gemma-0': { app: 'gemma' } }, { app: 'gemma' });
  // Strict: adapters come from allowlist ConfigMaps alone (the pods serve SQL either way).
  const { gw, client } = await kubeGateway(ns, { strictAllowlist: true });
  try {
    await assert.rejects(complete(client, SQL), modelNotFound);

    const written = Date.now();
    await kube.client.applyYaml(allowlistYaml('gemma-adapters', GEMMA, [SQL], ns));
    const ms = await within('the allowlisted adapter became routable', 5000, routable(client, SQL), written);
    assert.ok(ms < 1000, `the adapter became routable ${ms} ms after the ConfigMap was written`);
    t.diagnostic(`adapter routable ${ms} ms after the ConfigMap write`);

    await kube.client.labelConfigMap(ns, 'gemma-adapters', { [BBR_MANAGED]: null });
    await within('removing the bbr-managed label stopped routing', 3000, notFound(client, SQL));
    await kube.client.labelConfigMap(ns, 'gemma-adapters', { [BBR_MANAGED]: 'true' });
    await within('the label put back made it routable again', 3000, routable(client, SQL));
    await kube.client.delete(CONFIG_MAP, ns, 'gemma-adapters');
    await within('deleting the ConfigMap stopped routing', 3000, notFound(client, SQL));
  } finally {
    await gw.close();
  }
});

test('(b) a pod patched to Ready=False gets no more requests', CASE_TIMEOUT, async () => {
  const ns = await namespaceWith({ 'gemma-0': { app: 'gemma' }, 'gemma-1': { app: 'gemma' } }, { app: 'gemma' });
  const { gw, client } = await kubeGateway(ns);
  try {
    const seen = new Set<string>();
    await within('both Ready pods served', 10_000, async () => {
      for (const pod of (await spread(client, GEMMA, 8)).keys()) seen.add(pod);
      return seen.has('gemma-0') && seen.has('gemma-1');
    });

    await kube.client.setPodStatus(ns, 'gemma-1', { ip: fleet.ipOf('gemma-1'), ready: false });
    await within('the gateway saw gemma-1 not Ready', 3000, async () => gw.gateway.state?.snapshot.pods.find((p) => p.meta.name === 'gemma-1')?.ready === false);
    const after = await spread(client, GEMMA, 40);
    assert.deepEqual([...after], [['gemma-0', 40]], 'every request went to the Ready pod');
  } finally {
    await gw.close();
  }
});

test('(c) editing an InferencePool\'s selector moves traffic to the newly selected pods', CASE_TIMEOUT, async () => {
  const ns = await namespaceWith({ 'gemma-0': { app: 'gemma', track: 'blue' }, 'gemma-1': { app: 'gemma', track: 'green' }, 'gemma-2': { app: 'gemma', track: 'green' } }, { app: 'gemma', track: 'blue' });
  const { gw, client } = await kubeGateway(ns);
  try {
    assert.deepEqual([...(await spread(client, GEMMA, 12))], [['gemma-0', 12]]);

    await kube.client.applyYaml(poolYaml('gemma', { app: 'gemma', track: 'green' }, fleet.port, ns));
    await within('traffic moved to the green pods', 5000, async () => (await complete(client, GEMMA)) !== 'gemma-0');
    const after = await spread(client, GEMMA, 40);
    assert.equal(after.get('gemma-0'), undefined, `the deselected pod still served: ${JSON.stringify([...after])}`);
    assert.equal((after.get('gemma-1') ?? 0) + (after.get('gemma-2') ?? 0), 40);
  } finally {
    await gw.close();
  }
});

test('(e) with writePoolStatus, the pool reports its Gateway parent as Accepted and ResolvedRefs', CASE_TIMEOUT, async () => {
  const ns = await namespaceWith({ 'gemma-0': { app: 'gemma' } }, { app: 'gemma' });
  const { gw, client } = await kubeGateway(ns, { writePoolStatus: true });
  try {
    await complete(client, GEMMA);
    let parent: { parentRef: { kind?: string; name: string }; conditions: { type: string; status: string; reason: string }[] } | undefined;
    await within('status.parents names Gateway infergate', 5000, async () => {
      const pool = await kube.client.get(INFERENCE_POOL, ns, 'gemma');
      const parents = ((pool?.status as { parents?: (typeof parent)[] } | undefined)?.parents ?? []);
      parent = parents.find((p) => p?.parentRef.name === 'infergate' && (p.parentRef.kind ?? 'Gateway') === 'Gateway');
      return parent !== undefined && parent.conditions.length >= 2;
    });
    const conditions = parent!.conditions.map(({ type, status, reason }) => ({ type, status, reason })).sort((a, b) => a.type.localeCompare(b.type));
    assert.deepEqual(conditions, [
      { type: 'Accepted', status: 'True', reason: 'Accepted' },
      { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' },
    ]);
  } finally {
    await gw.close();
  }
});

/** The ServiceAccount, Role and RoleBinding of deploy/kustomize/overlays/ext-proc, as `kubectl kustomize` renders them. */
async function extProcRbac(): Promise<KubeObject[]> {
  const overlay = join(repoRoot(), 'deploy', 'kustomize', 'overlays', 'ext-proc');
  const yaml = await new Promise<string>((resolve, reject) => {
    execFile('kubectl', ['kustomize', overlay], { timeout: 30_000, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl kustomize ${overlay} failed (kubectl is needed to render it): ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
  const docs = parseAllDocuments(yaml).map((d) => d.toJS() as KubeObject);
  const rbac = docs.filter((d) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(d.kind));
  assert.deepEqual(rbac.map((d) => d.kind).sort(), ['Role', 'RoleBinding', 'ServiceAccount'], `the overlay renders: ${docs.map((d) => d.kind).join(', ')}`);
  return rbac;
}

test('(f) under the ext-proc overlay\'s Role (read-only): the gateway syncs and routes, and a forbidden status write is only logged', CASE_TIMEOUT, async () => {
  const ns = await namespaceWith({ 'gemma-0': { app: 'gemma' } }, { app: 'gemma' });
  const rbac = await extProcRbac();
  for (const obj of rbac) await kube.client.apply({ ...obj, metadata: { ...obj.metadata, namespace: ns } });
  const sa = rbac.find((d) => d.kind === 'ServiceAccount')!.metadata.name;
  const token = await kube.client.createToken(ns, sa);
  const asSa = kube.client.withToken(token);
  // The authorizer learns the new binding from its own watch, a moment after the write.
  await within('the Role took effect', 5000, async () => (await asSa.list(INFERENCE_POOL, ns), true));
  await assert.rejects(asSa.patchStatus(INFERENCE_POOL, ns, 'gemma', { parents: [] }), (e) => e instanceof KubeApiError && e.status === 403);

  const kubeconfig = await kube.writeKubeconfig(`${sa}-${ns}`, token, ns);
  const { gw, client, lines } = await kubeGateway(ns, { kubeconfig, writePoolStatus: true });
  try {
    assert.equal(await complete(client, GEMMA), 'gemma-0');
    await within('the forbidden status write was logged', 5000, async () => lines.some((l) => /inferencepools\/status/.test(l) && /forbidden/i.test(l)));
    const pool = await kube.client.get(INFERENCE_POOL, ns, 'gemma');
    assert.equal((pool?.status as { parents?: unknown[] } | undefined)?.parents, undefined, 'nothing was written');

    // Still following the cluster with read-only rights: gemma-0 goes NotReady, gemma-1 joins.
    await kube.client.setPodStatus(ns, 'gemma-0', { ip: fleet.ipOf('gemma-0'), ready: false });
    await addPod(ns, 'gemma-1', { app: 'gemma' });
    await within('traffic moved to gemma-1', 5000, async () => (await complete(client, GEMMA)) === 'gemma-1');
    assert.deepEqual([...(await spread(client, GEMMA, 8))], [['gemma-1', 8]]);
  } finally {
    await gw.close();
  }
});

test('(d) while the API server is down traffic flows on the last snapshot; after it restarts, changes are picked up again', { timeout: 120_000 }, async (t) => {
  const ns = await namespaceWith({ 'gemma-0': { app: 'gemma' }, 'gemma-1': { app: 'gemma' } }, { app: 'gemma' });
  await kube.client.applyYaml(allowlistYaml('sql', GEMMA, [SQL], ns));
  // Reconnect backoff capped at 1 s instead of 8 s: the ~10 s outage would otherwise put the first retry up to 8 s after the restart.
  const { gw, client } = await kubeGateway(ns, { strictAllowlist: true, reflector: { backoff: { initialMs: 100, maxMs: 1000, jitter: 0.2 } } });
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  // Bounded: the loop ends when told to, or after 20 000 requests, whichever comes first.
  const traffic = (async () => {
    while (!stop && ok + failures.length < 20_000) {
      try {
        await complete(client, SQL);
        ok++;
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  })();
  let down = false;
  try {
    await within('traffic started', 3000, async () => ok > 0);
    await kube.stopApiServer();
    down = true;
    const before = ok;
    await new Promise((r) => setTimeout(r, 2000));
    assert.ok(ok > before, 'requests were served while the API server was down');
    assert.deepEqual(failures, [], 'no request failed while the API server was down');
    await kube.client.get(POD, ns, 'gemma-0').then(
      () => assert.fail('the API server still answers'),
      (e: unknown) => assert.ok(!(e instanceof KubeApiError), `expected a connection error, got ${(e as Error).message}`),
    );

    const restarting = Date.now();
    await kube.restartApiServer();
    down = false;
    const written = Date.now();
    await kube.client.applyYaml(allowlistYaml('chat', GEMMA, [CHAT], ns));
    const resync = await within('an allowlist written after the restart was picked up', 3000, routable(client, CHAT), written);
    t.diagnostic(`API server restart ${written - restarting} ms; allowlist written after it routable in ${resync} ms; ${ok} requests served across the outage`);
  } finally {
    stop = true;
    await traffic;
    if (down) await kube.restartApiServer();
    await gw.close();
  }
  assert.deepEqual(failures, [], 'no request failed across the outage and the restart');
});
