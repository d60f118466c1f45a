/**
 * What `serve --kube` and `extproc --kube` say about their watches (in-process API server,
 * test/helpers/fake-kube-api.ts): extproc's admin /readyz names the pending list before the first sync, as serve's
 * does; while the API server is away both stay ready on the last snapshot, and /readyz, the dashboard's /api/state
 * and infergate_kube_watch_failing name the failing watches until they recover.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startGateway, type RunningGateway } from '../../src/cli/start-gateway.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { collectionPath, INFERENCE_POOLS, PODS } from '../../src/config/kube/resource-types.js';
import { createLogger } from '../../src/logger.js';
import { FakeKubeApi } from '../helpers/fake-kube-api.js';
import { startTestExtproc } from '../helpers/extproc.js';
import { eventually } from '../helpers/until.js';

const NS = 'watch-problems';
const api = new FakeKubeApi();
const log = createLogger(process.env.INFERGATE_TEST_LOG === 'debug' ? 'debug' : 'silent');
const reflector = { backoff: { initialMs: 20, maxMs: 100, jitter: 0 } };
let dir: string;
let gw: RunningGateway | undefined;
let ep: RunningExtproc | undefined;

before(async () => {
  await api.start('127.0.167.1');
  dir = await mkdtemp(join(tmpdir(), 'infergate-kube-watch-problems-'));
  await api.writeKubeconfig(join(dir, 'kubeconfig'), NS);
  api.put(collectionPath(INFERENCE_POOLS, NS), {
    apiVersion: 'inference.networking.k8s.io/v1',
    kind: 'InferencePool',
    metadata: { name: 'gemma', namespace: NS },
    spec: { selector: { matchLabels: { app: 'gemma' } }, targetPorts: [{ number: 8000 }] },
  });
  // The pool's pods cannot be listed at first: the first sync waits for them.
  api.forbid(collectionPath(PODS, NS));
});

after(async () => {
  await ep?.close();
  await gw?.close();
  await api.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Readyz {
  status?: string;
  reason?: string;
  details?: { kubernetes?: { failing: { watch: string; error: string; since: string }[]; effect: string } };
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await request(url);
  return { status: res.statusCode, body: (await res.body.json()) as T };
}

async function metric(adminUrl: string, name: string, labels: string): Promise<number | undefined> {
  const text = await (await request(`${adminUrl}/metrics`)).body.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('extproc: the admin /readyz names the pending list and the 403 before the first sync, as serve does', async () => {
  ep = await startTestExtproc({ host: '127.0.167.2', kube: { kubeconfig: join(dir, 'kubeconfig'), reflector }, skipSyncWait: true, log });
  const adminUrl = `http://127.0.167.2:${ep.ports.admin}`;
  await eventually('the forbidden pod list', 3000, async () => (await getJson<Readyz>(`${adminUrl}/readyz`)).body.reason?.includes('403') === true);
  const notReady = await getJson<Readyz>(`${adminUrl}/readyz`);
  assert.equal(notReady.status, 503);
  assert.equal(notReady.body.status, 'not ready');
  assert.match(notReady.body.reason ?? '', /waiting for the first sync from the Kubernetes API: pods in namespace watch-problems \(app=gemma\) \(.*403 Forbidden.*grant get, list and watch on pods/);
  api.forbid(collectionPath(PODS, NS), false);
  await eventually('readiness', 3000, async () => (await getJson<Readyz>(`${adminUrl}/readyz`)).status === 200);
  const ready = await getJson<Readyz>(`${adminUrl}/readyz`);
  assert.equal(ready.body.reason, undefined);
  assert.equal(ready.body.details?.kubernetes, undefined, 'no watch is failing');
});

test('while the API server is away: still ready, and /readyz, /api/state and infergate_kube_watch_failing name the failing watches until they recover', async () => {
  gw = await startGateway({ kube: { kubeconfig: join(dir, 'kubeconfig'), writePoolStatus: false, reflector }, host: '127.0.167.3', port: 0, adminPort: 0, log });
  assert.ok(ep, 'the extproc of the first test');
  const targets = [
    { name: 'serve', readyz: `${gw.url}/readyz`, adminUrl: gw.adminUrl! },
    { name: 'extproc', readyz: `http://127.0.167.2:${ep.ports.admin}/readyz`, adminUrl: `http://127.0.167.2:${ep.ports.admin}` },
  ];
  for (const t of targets) assert.equal((await getJson<Readyz>(t.readyz)).body.details?.kubernetes, undefined, `${t.name}: no watch failing yet`);

  const stoppedAt = Date.now();
  await api.stop();
  for (const t of targets) {
    await eventually(`${t.name}: the pool watch reported failing`, 5000, async () => (await getJson<Readyz>(t.readyz)).body.details?.kubernetes?.failing.some((f) => f.watch === `inferencepools.inference.networking.k8s.io in namespace ${NS}`) === true);
    const { status, body } = await getJson<Readyz>(t.readyz);
    assert.equal(status, 200, `${t.name}: the last snapshot keeps serving`);
    const pools = body.details!.kubernetes!.failing.find((f) => f.watch === `inferencepools.inference.networking.k8s.io in namespace ${NS}`)!;
    assert.ok(pools.error.length > 0);
    assert.ok(Date.parse(pools.since) >= stoppedAt - 1000, `${t.name}: since ${pools.since}`);
    assert.match(body.details!.kubernetes!.effect, /keeps serving/);
    const state = await getJson<{ issues: { readiness: Readyz['details'] } }>(`${t.adminUrl}/api/state`);
    assert.ok(state.body.issues.readiness?.kubernetes?.failing.some((f) => f.watch === `pods in namespace ${NS} (app=gemma)`), `${t.name}: /api/state`);
    assert.equal(await metric(t.adminUrl, 'infergate_kube_watch_failing', 'resource="inferencepools"'), 1);
  }

  await api.start();
  for (const t of targets) {
    await eventually(`${t.name}: the watches recovered`, 5000, async () => (await getJson<Readyz>(t.readyz)).body.details?.kubernetes === undefined);
    assert.equal(await metric(t.adminUrl, 'infergate_kube_watch_failing', 'resource="inferencepools"'), 0);
  }
});
