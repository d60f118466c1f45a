/**
 * `serve --kube` probes: /healthz answers from the start, /readyz is 503 with the reason until the first full
 * sync from the API server (in-process fake, test/helpers/fake-kube-api.ts), then 200.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startGateway, type RunningGateway } from '../../src/cli/start-gateway.js';
import { collectionPath, INFERENCE_POOLS, PODS } from '../../src/config/kube/resource-types.js';
import { createLogger } from '../../src/logger.js';
import { FakeKubeApi } from '../helpers/fake-kube-api.js';
import { until } from '../helpers/until.js';

const NS = 'ready';
const api = new FakeKubeApi();
let dir: string;
let gw: RunningGateway;

before(async () => {
  await api.start();
  dir = await mkdtemp(join(tmpdir(), 'infergate-serve-kube-'));
  await api.writeKubeconfig(join(dir, 'kubeconfig'), NS);
  api.put(collectionPath(INFERENCE_POOLS, NS), {
    apiVersion: 'inference.networking.k8s.io/v1',
    kind: 'InferencePool',
    metadata: { name: 'gemma', namespace: NS },
    spec: { selector: { matchLabels: { app: 'gemma' } }, targetPorts: [{ number: 8000 }] },
  });
  // The pool's pods cannot be listed at first: the first sync waits for them.
  api.forbid(collectionPath(PODS, NS));
  gw = await startGateway({
    kube: { kubeconfig: join(dir, 'kubeconfig'), reflector: { backoff: { initialMs: 20, maxMs: 100, jitter: 0 } } },
    skipSyncWait: true,
    host: '127.0.0.1',
    port: 0,
    log: createLogger(process.env.INFERGATE_TEST_LOG === 'debug' ? 'debug' : 'silent'),
  });
});

after(async () => {
  await gw?.close();
  await api.stop();
  await rm(dir, { recursive: true, force: true });
});

async function get(path: string): Promise<{ status: number; body: { status?: string; reason?: string; error?: { code?: string } } }> {
  const res = await request(`${gw.url}${path}`);
  return { status: res.statusCode, body: (await res.body.json()) as { status?: string; reason?: string } };
}

test('/healthz is 200 at once; /readyz and requests are 503 naming the pending list until the first sync, then 200', async () => {
  await until(() => api.requests.some((r) => r.url.startsWith(`/api/v1/namespaces/${NS}/pods`)), 'the pod list');
  assert.equal((await get('/healthz')).status, 200);
  const notReady = await get('/readyz');
  assert.equal(notReady.status, 503);
  assert.match(notReady.body.reason ?? '', /waiting for the first sync from the Kubernetes API: pods in namespace ready \(app=gemma\)/);
  const models = await get('/v1/models');
  assert.equal(models.status, 503);
  assert.equal(models.body.error?.code, 'not_ready');

  api.forbid(collectionPath(PODS, NS), false);
  await gw.kube!.source.firstSync();
  const ready = await get('/readyz');
  assert.equal(ready.status, 200);
  assert.equal(ready.body.status, 'ready');
});
