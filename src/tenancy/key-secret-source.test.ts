import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashApiKey } from './api-key.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeTarget } from '../config/kube/kube-target.js';
import { entriesOf, KeySecretSource, keySecretTargetOptions } from './key-secret-source.js';
import { createLogger } from '../logger.js';

const doc = (name: string, key: string): string => Buffer.from(`keys:\n  - name: ${name}\n    keyHash: ${hashApiKey(key)}\n    models: ["*"]\n`).toString('base64');
const secretList = (items: Record<string, string>[], rv: string): Record<string, unknown> => ({
  metadata: { resourceVersion: rv },
  items: items.map((data, i) => ({ metadata: { namespace: 'llm', name: `keys-${i}` }, data })),
});

test('labelled Secrets: every data value is a keys document; a bad change keeps the last good keys', async () => {
  let answer = secretList([{ 'keys.yaml': doc('team-a', 'ka') }, { a: doc('team-b', 'kb') }], '1');
  let asked: Readonly<Record<string, string>> | undefined;
  const lister = {
    getJson: async (_path: string, query: Readonly<Record<string, string>>) => {
      asked = query;
      return answer;
    },
  };
  const lines: string[] = [];
  const src = await KeySecretSource.openWith(lister, 'llm', createLogger('warn', (l) => lines.push(l)), 20);
  try {
    assert.deepEqual(asked, { labelSelector: 'infergate.io/api-keys=true' });
    assert.equal(src.keys.lookup('ka')?.tenant.name, 'team-a');
    assert.equal(src.keys.lookup('kb')?.tenant.name, 'team-b');
    answer = secretList([{ 'keys.yaml': Buffer.from('keys: [{name: x}]').toString('base64') }], '2');
    for (let i = 0; i < 100 && src.problem === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(src.problem?.includes('Secret llm/keys-0 key keys.yaml'));
    assert.equal(src.keys.lookup('ka')?.tenant.name, 'team-a');
    // Listed again every 20 ms with the same bad Secret: warned of once, not at every list (it was every 10 s).
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /API key Secrets rejected/);
    // A different problem is warned of again.
    answer = secretList([{ 'keys.yaml': Buffer.from('keys: [{name: y, models: ["*"]}]').toString('base64') }], '3');
    for (let i = 0; i < 100 && lines.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(lines.length, 2);
  } finally {
    src.close();
  }
  // The API server away, then back with nothing changed: warned of once, its end logged, and warned of again
  // when it goes away a second time.
  let away = false;
  answer = secretList([{ a: doc('team-a', 'ka') }], '7');
  const outage: string[] = [];
  const flaky = { getJson: async () => (away ? Promise.reject(new Error('connect ECONNREFUSED')) : answer) };
  const src2 = await KeySecretSource.openWith(flaky, 'llm', createLogger('info', (l) => outage.push(l)), 20);
  try {
    const waitFor = async (n: number): Promise<void> => {
      for (let i = 0; i < 100 && outage.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    away = true;
    await waitFor(1);
    away = false;
    await waitFor(2);
    away = true;
    await waitFor(3);
    assert.deepEqual(outage.map((l) => /(API key Secrets \w+ \w+)/.exec(l)?.[1]), ['API key Secrets rejected or', 'API key Secrets readable again', 'API key Secrets rejected or']);
    assert.equal(src2.problem, 'connect ECONNREFUSED');
  } finally {
    src2.close();
  }
  assert.throws(() => entriesOf(secretList([{ a: doc('t', 'same') }, { b: doc('u', 'same') }], '3')), /appears in two entries/);
  // The list's resourceVersion is the cluster's revision: it moves with every pod change, the Secrets unchanged.
  // Before, each list rebuilt the same keys and logged them as in force again.
  let revision = 100;
  const busy = { getJson: async () => secretList([{ a: doc('team-a', 'ka') }], String(revision++)) };
  const info: string[] = [];
  const src3 = await KeySecretSource.openWith(busy, 'llm', createLogger('info', (l) => info.push(l)), 20);
  try {
    const before = src3.keys;
    for (let i = 0; i < 100 && revision < 110; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(revision >= 110);
    assert.deepEqual(info, []);
    assert.equal(src3.keys, before);
  } finally {
    src3.close();
  }
  // One tenant's keys in two Secrets (a rotation) must agree on its limits, as in one document.
  const limited = (key: string, rpm: number): string => Buffer.from(`keys:\n  - name: t\n    keyHash: ${hashApiKey(key)}\n    models: ["*"]\n    requestsPerMinute: ${rpm}\n`).toString('base64');
  assert.equal(entriesOf(secretList([{ a: limited('old', 5) }, { b: limited('new', 5) }], '4')).length, 2);
  assert.throws(() => entriesOf(secretList([{ a: limited('old', 5) }, { b: limited('new', 6) }], '5')), /Secret llm\/keys-1 key b: tenant t has requestsPerMinute 6 here and 5 in Secret llm\/keys-0 key a/);
});

test("under --all-namespaces the key Secrets are read from the gateway's own namespace, never every namespace", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'key-secrets-'));
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://k.example:6443"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u, namespace: gateway-ns}}]\ncurrent-context: x\n');
    // No pod's service-account files under this root: the context's namespace is the gateway's own.
    const root = join(dir, 'no-pod');
    mkdirSync(root);
    const all = await loadKubeTarget(keySecretTargetOptions({ kubeconfig, allNamespaces: true }), {}, root);
    assert.equal(all.namespace, 'gateway-ns');
    const one = await loadKubeTarget(keySecretTargetOptions({ kubeconfig, namespace: 'llm' }), {}, root);
    assert.equal(one.namespace, 'llm');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
