import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FakeKubeApi } from '../../test/helpers/fake-kube-api.js';
import { until } from '../../test/helpers/until.js';
import { collectionPath, CONFIG_MAPS, HTTP_ROUTES, INFERENCE_OBJECTIVES, INFERENCE_POOLS, PODS, SERVICES } from '../config/kube/resource-types.js';
import { createLogger } from '../logger.js';
import { explainRequest } from './explain.js';
import { renderPlan } from './render-plan.js';

const NS = 'explain';
const GEMMA = 'google/gemma-2b-it';
const api = new FakeKubeApi();
let dir: string;
let kubeconfig: string;

before(async () => {
  await api.start();
  dir = await mkdtemp(join(tmpdir(), 'infergate-explain-kube-'));
  kubeconfig = join(dir, 'kubeconfig');
  await api.writeKubeconfig(kubeconfig, NS);
  api.put(collectionPath(INFERENCE_POOLS, NS), { apiVersion: INFERENCE_POOLS.apiVersion, kind: 'InferencePool', metadata: { name: 'gemma', namespace: NS }, spec: { selector: { matchLabels: { app: 'gemma' } }, targetPorts: [{ number: 8000 }] } });
  api.put(collectionPath(HTTP_ROUTES, NS), {
    apiVersion: HTTP_ROUTES.apiVersion,
    kind: 'HTTPRoute',
    metadata: { name: 'gemma', namespace: NS },
    spec: { rules: [{ matches: [{ headers: [{ type: 'Exact', name: 'X-Gateway-Base-Model-Name', value: GEMMA }] }], backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'gemma' }] }] },
  });
  api.put(collectionPath(CONFIG_MAPS, NS), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gemma', namespace: NS, labels: { 'inference.networking.k8s.io/bbr-managed': 'true' } }, data: { baseModel: GEMMA, adapters: '- gemma-sql-lora' } });
  api.put(collectionPath(PODS, NS), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'gemma-0', namespace: NS, labels: { app: 'gemma' } }, spec: {}, status: { podIP: '10.9.0.1', conditions: [{ type: 'Ready', status: 'True' }] } });
});

after(async () => {
  await api.stop();
  await rm(dir, { recursive: true, force: true });
});

test('explain --kube plans a request against what the API server holds, then stops watching', async () => {
  const plan = await explainRequest({ kube: { kubeconfig }, body: '{"model":"gemma-sql-lora","prompt":"hi"}', headers: [], discover: false });
  const text = renderPlan(plan).join('\n');
  assert.match(text, /adapter of base model google\/gemma-2b-it \(from ConfigMap explain\/gemma\)/);
  assert.match(text, /HTTPRoute explain\/gemma rule 0/);
  assert.match(text, /InferencePool explain\/gemma/);
  assert.match(text, /10\.9\.0\.1:8000/);
  await until(() => api.openWatches === 0, 'every watch to close');
});

test("explain --kube: a pool whose endpointPickerRef names a Service that does not exist is explained as the 500 serve --kube answers, not as a pick", async (t) => {
  const pools = collectionPath(INFERENCE_POOLS, NS);
  const withRef = (ref: string) => ({ apiVersion: INFERENCE_POOLS.apiVersion, kind: 'InferencePool', metadata: { name: 'gemma', namespace: NS }, spec: { selector: { matchLabels: { app: 'gemma' } }, targetPorts: [{ number: 8000 }], endpointPickerRef: { name: ref, port: { number: 9002 } } } });
  const original = { apiVersion: INFERENCE_POOLS.apiVersion, kind: 'InferencePool', metadata: { name: 'gemma', namespace: NS }, spec: { selector: { matchLabels: { app: 'gemma' } }, targetPorts: [{ number: 8000 }] } };
  t.after(() => {
    api.put(pools, original);
    api.remove(collectionPath(SERVICES, NS), 'gemma-epp');
  });
  api.put(pools, withRef('gemma-epp'));
  const missing = renderPlan(await explainRequest({ kube: { kubeconfig }, body: '{"model":"gemma-sql-lora","prompt":"hi"}', headers: [], discover: false })).join('\n');
  assert.match(missing, /error 500 invalid_endpoint_picker_ref: InferencePool explain\/gemma has no endpoint picker: spec\.endpointPickerRef names Service explain\/gemma-epp, which does not exist/);
  // Once the Service exists, infergate picks (no --epp-service-name: every existing ref names it).
  api.put(collectionPath(SERVICES, NS), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'gemma-epp', namespace: NS }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.11', ports: [{ port: 9002 }] } });
  const present = renderPlan(await explainRequest({ kube: { kubeconfig }, body: '{"model":"gemma-sql-lora","prompt":"hi"}', headers: [], discover: false })).join('\n');
  assert.doesNotMatch(present, /invalid_endpoint_picker_ref/);
  assert.match(present, /InferencePool explain\/gemma/);
});

test('explain --kube reads an optional CRD that is not installed as empty, and does not say it checks again (it reads once)', async (t) => {
  const lines: string[] = [];
  api.hide(collectionPath(INFERENCE_OBJECTIVES, NS));
  t.after(() => api.hide(collectionPath(INFERENCE_OBJECTIVES, NS), false));
  await explainRequest({ kube: { kubeconfig }, body: '{"model":"gemma-sql-lora","prompt":"hi"}', headers: [], discover: false, log: createLogger('info', (l) => lines.push(l)) });
  const missing = lines.filter((l) => /inferenceobjectives\.llm-d\.ai in namespace explain: the InferenceObjective CRD \(llm-d\.ai\/v1alpha2\) is not installed/.test(l));
  assert.equal(missing.length, 1, lines.join('\n'));
  assert.match(missing[0]!, /is not installed; read as no InferenceObjectives$/);
  assert.match(missing[0]!, / INFO /, 'a missing optional CRD is normal: said, not warned about');
  assert.ok(!lines.some((l) => /checking again|running without/.test(l)), lines.join('\n'));
});

test('explain --kube says which list it could not get when the sync does not finish', async () => {
  api.unavailable(collectionPath(HTTP_ROUTES, NS));
  try {
    await assert.rejects(
      explainRequest({ kube: { kubeconfig, timeoutMs: 300, reflector: { backoff: { initialMs: 20, maxMs: 50, jitter: 0 } } }, body: '{"model":"x"}', headers: [], discover: false }),
      /no full sync from the Kubernetes API after 300 ms: .*httproutes\.gateway\.networking\.k8s\.io in namespace explain \(.*503 ServiceUnavailable/,
    );
  } finally {
    api.unavailable(collectionPath(HTTP_ROUTES, NS), false);
  }
});

test('explain --kube stops at a list refused for good (403), not at its timeout', { timeout: 20_000 }, async () => {
  api.forbid(collectionPath(HTTP_ROUTES, NS));
  try {
    await assert.rejects(
      explainRequest({ kube: { kubeconfig, timeoutMs: 600_000, reflector: { backoff: { initialMs: 20, maxMs: 50, jitter: 0 } } }, body: '{"model":"x"}', headers: [], discover: false }),
      /^Error: cannot list httproutes\.gateway\.networking\.k8s\.io in namespace explain: .*403 Forbidden.*grant get, list and watch on httproutes/,
    );
  } finally {
    api.forbid(collectionPath(HTTP_ROUTES, NS), false);
  }
});
