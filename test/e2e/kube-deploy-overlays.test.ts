/**
 * Each deploy/kustomize overlay as a cluster would run it, minus the kubelet: its ServiceAccount and RBAC applied
 * to a real API server, and the CLI started with the container's own args (each $(VAR) expanded from the rendered
 * flags ConfigMap, as the kubelet does) under that account's token. So a flag the CLI refuses, or a resource the
 * kube source lists that the Role or ClusterRole does not grant, fails here rather than in a crash-looping pod or
 * a readiness that never comes. Only --kubeconfig (in place of in-cluster config) and --host (a loopback address
 * of this test's) are added.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { startCli, type CliProcess } from '../helpers/cli-process.js';
import { poolYaml, startFleet, type Fleet } from '../helpers/fleet.js';
import { applyCrds, createNamespace, repoRoot, startLocalKube, type LocalKube } from '../helpers/local-kube.js';
import { INFERENCE_POOL, NAMESPACE, resourcePath, type KubeObject } from '../helpers/kube-test-client.js';

const MODEL = 'google/gemma-2b-it';
const RBAC_KINDS = ['ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'];

let kube: LocalKube;
let fleet: Fleet;

before(async () => {
  kube = await startLocalKube();
  await applyCrds(kube.client);
  await applyCrds(kube.client, 30_000, 'gateway-crds.yaml');
  // The all-namespaces overlays install into namespace infergate, which their README says to create first.
  await kube.client.request('POST', resourcePath(NAMESPACE, undefined), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'infergate' } });
  fleet = await startFleet(179, [{ name: 'gemma-0', labels: {}, model: MODEL, ttftMs: 1, itlMs: 1 }]);
});

after(async () => {
  await fleet?.close();
  await kube?.close();
});

/** `kubectl kustomize deploy/kustomize/overlays/NAME`, parsed. */
function render(overlay: string): Promise<KubeObject[]> {
  const dir = join(repoRoot(), 'deploy', 'kustomize', 'overlays', overlay);
  return new Promise((resolve, reject) => {
    execFile('kubectl', ['kustomize', dir], { timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl kustomize ${dir} failed (kubectl is needed to render it): ${err.message}\n${stderr}`));
      else resolve(parseAllDocuments(stdout).map((d) => d.toJS() as KubeObject).filter((o) => o !== null));
    });
  });
}

interface Container {
  args: string[];
  env: { name: string; value?: string; valueFrom?: { configMapKeyRef?: { name: string; key: string } } }[];
}

/** The container's args as the kubelet passes them: every $(VAR) replaced by its env value, read from the rendered ConfigMap. */
function containerArgs(objects: KubeObject[]): string[] {
  const deployment = objects.find((o) => o.kind === 'Deployment');
  const container = (deployment?.spec as { template: { spec: { containers: Container[] } } } | undefined)?.template.spec.containers[0];
  assert.ok(container, 'the overlay renders a Deployment with a container');
  const env = new Map<string, string>();
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.configMapKeyRef;
    const cm = ref ? objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ref.name) : undefined;
    const value = ref ? (cm?.data as Record<string, string> | undefined)?.[ref.key] : e.value;
    assert.ok(value !== undefined, `env ${e.name} has a value in the rendered objects`);
    env.set(e.name, value);
  }
  return container.args.map((a) => a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env.get(name) ?? whole));
}

/** A namespace with pool `gemma` (its one pod Ready, on the fleet) routed by an HTTPRoute under Gateway `infergate`. */
async function poolNamespace(): Promise<string> {
  const ns = await createNamespace(kube.client, 'pools');
  await kube.client.createPod(ns, 'gemma-0', { app: 'gemma' }, fleet.port);
  await kube.client.setPodStatus(ns, 'gemma-0', { ip: fleet.ipOf('gemma-0'), ready: true });
  await kube.client.applyYaml(poolYaml('gemma', { app: 'gemma' }, fleet.port, ns));
  await kube.client.apply({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'gemma', namespace: ns },
    spec: { parentRefs: [{ name: 'infergate' }], rules: [{ backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'gemma' }] }] },
  });
  return ns;
}

/**
 * Applies the overlay's ServiceAccount and RBAC (into `ns` when the overlay sets no namespace) and starts the CLI
 * with the container's args as that ServiceAccount, on `host`; resolves once the first sync is done.
 */
async function startOverlay(overlay: string, host: string, ns?: string): Promise<{ cli: CliProcess; args: string[] }> {
  const objects = await render(overlay);
  const rbac = objects.filter((o) => RBAC_KINDS.includes(o.kind));
  const namespaced = (o: KubeObject): boolean => !o.kind.startsWith('Cluster');
  for (const o of rbac) await kube.client.apply(namespaced(o) && ns ? { ...o, metadata: { ...o.metadata, namespace: ns } } : o);
  const sa = rbac.find((o) => o.kind === 'ServiceAccount')!;
  const saNamespace = ns ?? sa.metadata.namespace!;
  const token = await kube.client.createToken(saNamespace, sa.metadata.name);
  const kubeconfig = await kube.writeKubeconfig(`${overlay}-${saNamespace}`, token, saNamespace);
  // The authorizer learns new bindings from its own watch, a moment after the write: the CLI's first lists may
  // still be refused, which it retries; the sync below waits for them.
  const args = [...containerArgs(objects), `--kubeconfig=${kubeconfig}`, `--host=${host}`];
  const cli = await startCli(args, /first sync from the Kubernetes API done/, 30_000);
  return { cli, args };
}

/** Stops the CLI: SIGTERM, then SIGTERM again (exit at once) so the test does not wait out --shutdown-delay. */
async function stop(cli: CliProcess): Promise<void> {
  cli.kill('SIGTERM');
  await cli.line(/SIGTERM received/, 5000).catch(() => undefined);
  cli.kill('SIGTERM');
  const exit = await Promise.race([cli.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 10_000))]);
  if (exit === undefined) {
    cli.kill('SIGKILL');
    await cli.exited;
  }
}

/** Log lines saying the API server refused a request; `allowed` are those the overlay expects (a namespaced Role cannot grant cluster-scoped kinds). */
function forbidden(cli: CliProcess, allowed?: RegExp): string[] {
  return cli.lines.filter((l) => /forbidden/i.test(l) && !(allowed?.test(l) ?? false));
}

async function poolAccepted(ns: string, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const pool = await kube.client.get(INFERENCE_POOL, ns, 'gemma');
    const parents = ((pool?.status as { parents?: { conditions?: { type: string; status: string }[] }[] } | undefined)?.parents ?? []);
    if (parents.some((p) => (p.conditions ?? []).some((c) => c.type === 'Accepted' && c.status === 'True'))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function chat(base: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.text() };
}

for (const [overlay, allNamespaces] of [['standalone-gateway', false], ['standalone-gateway-all-namespaces', true]] as const) {
  test(`overlays/${overlay}: serve with the container's args and the overlay's RBAC syncs, routes and writes pool status`, { timeout: 90_000 }, async () => {
    const pools = await poolNamespace();
    const host = allNamespaces ? '127.0.181.2' : '127.0.181.1';
    const { cli, args } = await startOverlay(overlay, host, allNamespaces ? undefined : pools);
    try {
      assert.equal(args[0], 'serve');
      const answer = await chat(`http://${host}:8080`);
      assert.equal(answer.status, 200, answer.body);
      const ready = await fetch(`http://${host}:8080/readyz`, { signal: AbortSignal.timeout(5000) });
      assert.equal(ready.status, 200, await ready.text());
      assert.ok(await poolAccepted(pools, 10_000), 'the gateway wrote the pool status its RBAC allows');
      // In one namespace, GatewayClasses (cluster-scoped) cannot be granted; the log says that is expected.
      assert.deepEqual(forbidden(cli, allNamespaces ? undefined : /gatewayclasses.*expected with a namespaced Role/), [], 'nothing the gateway reads or writes was refused');
    } finally {
      await stop(cli);
    }
  });
}

for (const [overlay, allNamespaces] of [['ext-proc', false], ['ext-proc-all-namespaces', true]] as const) {
  test(`overlays/${overlay}: extproc with the container's args and the overlay's RBAC syncs every resource it watches`, { timeout: 90_000 }, async () => {
    const pools = await poolNamespace();
    const host = allNamespaces ? '127.0.181.4' : '127.0.181.3';
    const { cli, args } = await startOverlay(overlay, host, allNamespaces ? undefined : pools);
    try {
      assert.equal(args[0], 'extproc');
      // Under --all-namespaces the earlier tests' pools are seen too.
      await cli.line(allNamespaces ? /configuration in force .*pools=[1-9]\d* routes=[1-9]\d* endpoints=[1-9]/ : /configuration in force .*pools=1 routes=1 endpoints=1/, 10_000);
      const metrics = await fetch(`http://${host}:9090/metrics`, { signal: AbortSignal.timeout(5000) });
      assert.equal(metrics.status, 200, 'the admin port of the args serves /metrics');
      assert.deepEqual(forbidden(cli), [], 'nothing the picker reads was refused');
    } finally {
      await stop(cli);
    }
  });
}
