/**
 * `extproc --kube`: readiness on the gRPC health port follows the first sync from the API server, BBR answers
 * from allowlists read through the API, and no pool status is written (the Gateway implementation owns it).
 * The API server is the in-process fake (test/helpers/fake-kube-api.ts); the real one is covered by
 * kube-source.test.ts. A gRPC client replays Envoy's messages; no Envoy binary runs here.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectionPath, CONFIG_MAPS, HTTP_ROUTES, INFERENCE_POOLS } from '../../src/config/kube/resource-types.js';
import { ExtProcClient, HealthClient, requestBody, requestHeaders } from '../../src/extproc/ext-proc-client.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { startTestExtproc } from '../helpers/extproc.js';
import { FakeKubeApi } from '../helpers/fake-kube-api.js';
import { waitFor } from '../helpers/fleet.js';

const NS = 'llm';
const GEMMA = 'google/gemma-2b-it';
const api = new FakeKubeApi();
let dir: string;
let xp: RunningExtproc;

before(async () => {
  await api.start();
  dir = await mkdtemp(join(tmpdir(), 'infergate-extproc-kube-'));
  await api.writeKubeconfig(join(dir, 'kubeconfig'), NS);
  api.put(collectionPath(INFERENCE_POOLS, NS), { apiVersion: INFERENCE_POOLS.apiVersion, kind: 'InferencePool', metadata: { name: 'gemma', namespace: NS }, spec: { selector: { matchLabels: { app: 'gemma' } }, targetPorts: [{ number: 8000 }] } });
  api.put(collectionPath(CONFIG_MAPS, NS), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'gemma', namespace: NS, labels: { 'inference.networking.k8s.io/bbr-managed': 'true' } },
    data: { baseModel: GEMMA, adapters: '- gemma-sql-lora' },
  });
  // HTTPRoutes are forbidden at first: the first sync cannot complete.
  api.forbid(collectionPath(HTTP_ROUTES, NS));
  xp = await startTestExtproc({
    kube: { kubeconfig: join(dir, 'kubeconfig'), reflector: { backoff: { initialMs: 20, maxMs: 100, jitter: 0 } } },
    skipSyncWait: true,
  });
});

after(async () => {
  await xp?.close();
  await api.stop();
  await rm(dir, { recursive: true, force: true });
});

test('readiness is NOT_SERVING until the first full sync, liveness SERVING throughout; BBR then answers from the API', async () => {
  const health = new HealthClient(`127.0.0.1:${xp.ports.health}`);
  try {
    await waitFor(() => api.requests.some((r) => r.url.includes('/httproutes')), 2000);
    assert.equal(await health.check('liveness'), 'SERVING');
    assert.equal(await health.check('readiness'), 'NOT_SERVING');
    assert.equal(await health.check('envoy.service.ext_proc.v3.ExternalProcessor'), 'NOT_SERVING');
    assert.equal(xp.gateway.state, undefined, 'no snapshot before every list is in');

    api.forbid(collectionPath(HTTP_ROUTES, NS), false);
    assert.ok(await waitFor(async () => (await health.check('readiness')) === 'SERVING', 3000), 'ready after the sync');

    const bbr = new ExtProcClient(`127.0.0.1:${xp.ports.bbr}`);
    try {
      const s = bbr.open().send(requestHeaders({ ':method': 'POST', ':path': '/v1/completions', 'content-type': 'application/json' }, false, { protocol: { request: 'BUFFERED' } }));
      await s.next();
      s.send(requestBody(JSON.stringify({ model: 'gemma-sql-lora', prompt: 'hi' }), true));
      const answer = (await s.next()) as { request_body?: { response?: { header_mutation?: { set_headers?: { header: { key: string; raw_value: Buffer } }[] } } } };
      const set = answer.request_body?.response?.header_mutation?.set_headers ?? [];
      const base = set.find((h) => h.header.key === 'x-gateway-base-model-name');
      assert.equal(base && Buffer.from(base.header.raw_value).toString(), GEMMA, 'the adapter mapped to its base through the ConfigMap read from the API');
      s.end();
    } finally {
      bbr.close();
    }
    assert.ok(!api.requests.some((r) => r.method === 'PATCH'), 'ext_proc mode writes no status');
  } finally {
    health.close();
  }
});
