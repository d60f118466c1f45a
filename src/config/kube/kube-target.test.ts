/** loadKubeTarget: which kubeconfig, context, server and namespace infergate ends up with, and what it says when it finds none. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadKubeTarget } from './kube-target.js';

const dir = mkdtempSync(join(tmpdir(), 'kube-target-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A pod filesystem with no service-account files, so a stray one on the test machine cannot leak in. */
const noPod = join(dir, 'no-pod');
mkdirSync(noPod);

const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(
  kubeconfig,
  `apiVersion: v1
kind: Config
clusters:
  - name: one
    cluster: {server: "https://one.example:6443/"}
  - name: two
    cluster: {server: "https://two.example:443"}
users:
  - name: me
    user: {token: secret-token}
contexts:
  - name: first
    context: {cluster: one, user: me, namespace: llm}
  - name: second
    context: {cluster: two, user: me}
current-context: first
`,
);
const missing = join(dir, 'does-not-exist');

/** A pod's filesystem: `<root>/var/run/secrets/kubernetes.io/serviceaccount/{token,namespace,ca.crt}`. */
function podRoot(name: string, namespace = 'llm-prod\n'): string {
  const root = join(dir, name);
  const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
  mkdirSync(sa, { recursive: true });
  writeFileSync(join(sa, 'token'), 'pod-token');
  writeFileSync(join(sa, 'namespace'), namespace);
  writeFileSync(join(sa, 'ca.crt'), '-----BEGIN CERTIFICATE-----\nnot a real one\n-----END CERTIFICATE-----\n');
  return root;
}

const cases: { name: string; opts: Parameters<typeof loadKubeTarget>[0]; server: string; namespace: string | undefined; describe: RegExp[] }[] = [
  {
    name: 'current-context by default, with its namespace',
    opts: { kubeconfig },
    server: 'https://one.example:6443',
    namespace: 'llm',
    describe: [/^https:\/\/one\.example:6443\/? /, /kubeconfig .*kubeconfig/, /context first/, /namespace llm/],
  },
  {
    name: '--context switches cluster; a context without a namespace watches default',
    opts: { kubeconfig, context: 'second' },
    server: 'https://two.example:443',
    namespace: 'default',
    describe: [/^https:\/\/two\.example:443 /, /context second/, /namespace default/],
  },
  {
    name: '--namespace overrides the context namespace',
    opts: { kubeconfig, namespace: 'other' },
    server: 'https://one.example:6443',
    namespace: 'other',
    describe: [/context first/, /namespace other/],
  },
  {
    name: '--all-namespaces wins over --namespace',
    opts: { kubeconfig, namespace: 'other', allNamespaces: true },
    server: 'https://one.example:6443',
    namespace: undefined,
    describe: [/all namespaces/],
  },
];

for (const c of cases) {
  test(`kubeconfig: ${c.name}`, async () => {
    const t = await loadKubeTarget(c.opts, {}, noPod);
    assert.equal(t.server, c.server);
    assert.equal(t.namespace, c.namespace);
    for (const re of c.describe) assert.match(t.describe, re);
  });
}

test('an unknown --context errors and lists the known ones', async () => {
  await assert.rejects(() => loadKubeTarget({ kubeconfig, context: 'nope' }, {}, noPod), /--context nope: no such context in the kubeconfig .*; it has first, second/);
});

test('a missing --kubeconfig path errors and names it', async () => {
  await assert.rejects(() => loadKubeTarget({ kubeconfig: missing }, {}, noPod), (e: Error) => e.message === `--kubeconfig ${missing}: no such file`);
});

test('a --kubeconfig (or $KUBECONFIG) that is no kubeconfig errors in one line naming the file: bad YAML, empty, a directory', async () => {
  const tabs = join(dir, 'tabs.yaml');
  writeFileSync(tabs, 'apiVersion: v1\nclusters:\n\t- name: x\n');
  const empty = join(dir, 'empty.yaml');
  writeFileSync(empty, '');
  for (const file of [tabs, empty, dir]) {
    await assert.rejects(
      () => loadKubeTarget({ kubeconfig: file }, {}, noPod),
      (e: Error) => e.message.startsWith(`--kubeconfig ${file}: cannot be read as a kubeconfig (`) && !e.message.includes('\n'),
      file,
    );
  }
  await assert.rejects(() => loadKubeTarget({}, { KUBECONFIG: empty }, noPod), (e: Error) => e.message.startsWith(`kubeconfig ${empty}: cannot be read as a kubeconfig (it is empty or holds no kubeconfig mapping)`));
});

test('$KUBECONFIG: the files that exist are used when no --kubeconfig is given, a missing one skipped as kubectl does', async () => {
  const t = await loadKubeTarget({}, { KUBECONFIG: `:${missing}:${kubeconfig}:` }, noPod);
  assert.equal(t.server, 'https://one.example:6443');
  assert.match(t.describe, new RegExp(`\\(kubeconfig ${kubeconfig.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, context first`));
});

test('$KUBECONFIG with several files merges them as kubectl does: every context reachable, the first file wins a shared name and sets current-context', async () => {
  const second = join(dir, 'second-kubeconfig');
  writeFileSync(
    second,
    `apiVersion: v1
kind: Config
clusters:
  - name: one
    cluster: {server: "https://shadowed.example:6443"}
  - name: three
    cluster: {server: "https://three.example:6443"}
users:
  - name: me
    user: {token: shadowed-token}
  - name: ops
    user: {token: ops-token}
contexts:
  - name: first
    context: {cluster: three, user: ops, namespace: shadowed}
  - name: prod
    context: {cluster: three, user: ops, namespace: serving}
current-context: prod
`,
  );
  const env = { KUBECONFIG: `${kubeconfig}:${second}` };
  const byDefault = await loadKubeTarget({}, env, noPod);
  assert.equal(byDefault.server, 'https://one.example:6443');
  assert.equal(byDefault.namespace, 'llm');
  assert.ok(byDefault.describe.includes(`kubeconfig ${kubeconfig}:${second}, context first`), byDefault.describe);
  const prod = await loadKubeTarget({ context: 'prod' }, env, noPod);
  assert.equal(prod.server, 'https://three.example:6443');
  assert.equal(prod.namespace, 'serving');
  const opts: RequestOptions & { headers: Record<string, string> } = { headers: {} };
  await prod.config.applyToHTTPSOptions(opts);
  assert.equal(opts.headers.Authorization ?? opts.headers.authorization, 'Bearer ops-token');
  // The second file first: its current-context, and its cluster "one" wins.
  const reversed = await loadKubeTarget({ context: 'second' }, { KUBECONFIG: `${second}:${kubeconfig}` }, noPod);
  assert.equal(reversed.server, 'https://two.example:443');
  assert.equal((await loadKubeTarget({}, { KUBECONFIG: `${second}:${kubeconfig}` }, noPod)).namespace, 'serving');
});

test('no credentials at all: says where it looked and to pass --kubeconfig', async () => {
  await assert.rejects(
    () => loadKubeTarget({}, { KUBECONFIG: missing }, noPod),
    (e: Error) => /no Kubernetes credentials found/.test(e.message) && e.message.includes(missing) && /KUBERNETES_SERVICE_HOST unset/.test(e.message) && /pass --kubeconfig PATH/.test(e.message),
  );
});

test('KUBERNETES_SERVICE_HOST without a service-account token is not taken for a pod', async () => {
  const t = await loadKubeTarget({}, { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', KUBECONFIG: kubeconfig }, noPod);
  assert.equal(t.server, 'https://one.example:6443');
});

test('in a pod: the service account, server https://HOST:PORT from the env given, namespace from the file', async () => {
  const root = podRoot('pod');
  // KUBECONFIG is set too: in a pod the service account wins.
  const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', KUBECONFIG: kubeconfig };
  const t = await loadKubeTarget({}, env, root);
  assert.equal(t.server, 'https://10.96.0.1:443');
  assert.equal(t.namespace, 'llm-prod');
  assert.match(t.describe, /^https:\/\/10\.96\.0\.1:443 \(in-cluster service account/);
  assert.match(t.describe, /namespace llm-prod\)$/);
  // The token is read from under `root`, on each request.
  const opts: RequestOptions = { headers: {} };
  await t.config.applyToHTTPSOptions(opts);
  assert.equal((opts.headers as Record<string, string>).Authorization, 'Bearer pod-token');

  assert.equal((await loadKubeTarget({ namespace: 'elsewhere' }, env, root)).namespace, 'elsewhere');
  assert.equal((await loadKubeTarget({ allNamespaces: true }, env, root)).namespace, undefined);
  // An explicit --kubeconfig wins over the pod's own account.
  assert.equal((await loadKubeTarget({ kubeconfig }, env, root)).server, 'https://one.example:6443');
});

test('in a pod with an IPv6 service host: the address is bracketed', async () => {
  const t = await loadKubeTarget({}, { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' }, podRoot('pod-v6'));
  assert.equal(t.server, 'https://[fd00::1]:6443');
});
