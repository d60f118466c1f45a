/**
 * `serve --kube` with an InferencePool that exists but is invalid (in-process API server,
 * test/helpers/fake-kube-api.ts): the source sets it aside, and a route naming it answers 500 saying so and why,
 * not that the pool does not exist (which a `kubectl get` would contradict); fixed, the pool serves.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startGateway, type RunningGateway } from '../../src/cli/start-gateway.js';
import { collectionPath, CONFIG_MAPS, HTTP_ROUTES, INFERENCE_POOLS } from '../../src/config/kube/resource-types.js';
import { createLogger } from '../../src/logger.js';
import { FakeKubeApi, type FakeObject } from '../helpers/fake-kube-api.js';
import { eventually } from '../helpers/until.js';

const NS = 'invalid-pool';
const api = new FakeKubeApi();
const log = createLogger(process.env.INFERGATE_TEST_LOG === 'debug' ? 'debug' : 'silent');
let dir: string;
let gw: RunningGateway | undefined;

const pool = (targetPorts: unknown): FakeObject => ({
  apiVersion: 'inference.networking.k8s.io/v1',
  kind: 'InferencePool',
  metadata: { name: 'broken', namespace: NS },
  spec: { selector: { matchLabels: { app: 'broken' } }, targetPorts },
});

before(async () => {
  await api.start('127.0.244.20');
  dir = await mkdtemp(join(tmpdir(), 'infergate-kube-invalid-pool-'));
  await api.writeKubeconfig(join(dir, 'kubeconfig'), NS);
  api.put(collectionPath(INFERENCE_POOLS, NS), pool([{ number: 70000 }]));
  api.put(collectionPath(HTTP_ROUTES, NS), {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'broken', namespace: NS },
    spec: {
      rules: [
        {
          matches: [{ headers: [{ type: 'Exact', name: 'X-Gateway-Base-Model-Name', value: 'broken/model' }] }],
          backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'broken', weight: 1 }],
        },
      ],
    },
  });
  api.put(collectionPath(CONFIG_MAPS, NS), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'broken-allowlist', namespace: NS, labels: { 'inference.llm-d.ai/ipp-managed': 'true' } },
    data: { baseModel: 'broken/model' },
  });
});

after(async () => {
  await gw?.close();
  await api.stop();
  await rm(dir, { recursive: true, force: true });
});

async function complete(): Promise<{ status: number; error: { code?: string; message?: string } | undefined }> {
  const res = await request(`${gw!.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"broken/model","prompt":"hi","max_tokens":1}' });
  const body = (await res.body.json()) as { error?: { code?: string; message?: string } };
  return { status: res.statusCode, error: body.error };
}

test('a route to a pool set aside as invalid answers 500 naming the problem, and the dashboard warns; fixed, the pool is used', async () => {
  gw = await startGateway({ kube: { kubeconfig: join(dir, 'kubeconfig'), writePoolStatus: false }, host: '127.0.244.21', port: 0, adminPort: 0, log });
  await eventually('readiness', 5000, async () => (await request(`${gw!.url}/readyz`)).statusCode === 200);
  const refused = await complete();
  assert.equal(refused.status, 500);
  assert.equal(refused.error?.code, 'pool_not_found');
  assert.match(refused.error?.message ?? '', /names InferencePool invalid-pool\/broken, which is invalid and set aside until it is fixed: .*spec\.targetPorts\[0\]\.number: must be an integer from 1 to 65535, got number 70000/);
  assert.doesNotMatch(refused.error?.message ?? '', /does not exist/);
  const state = (await (await request(`${gw.adminUrl!}/api/state`)).body.json()) as { issues: { warnings: string[] } };
  assert.ok(state.issues.warnings.some((w) => /InferencePool invalid-pool\/broken, which is invalid and set aside until it is fixed/.test(w)), JSON.stringify(state.issues.warnings));

  api.put(collectionPath(INFERENCE_POOLS, NS), pool([{ number: 8000 }]));
  // Valid now, with no pods: the pool itself answers (503), no longer the set-aside 500.
  await eventually('the fixed pool in use', 5000, async () => (await complete()).status === 503);
  assert.equal((await complete()).error?.code, 'no_healthy_endpoint');
});
