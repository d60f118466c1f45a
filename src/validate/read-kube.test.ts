/** validate --kube against an in-process API server: the same findings as from files, located by object. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FakeKubeApi } from '../../test/helpers/fake-kube-api.js';
import { until } from '../../test/helpers/until.js';
import { collectionPath, CONFIG_MAPS, HTTP_ROUTES, INFERENCE_OBJECTIVES, INFERENCE_POOLS, LEGACY_INFERENCE_OBJECTIVES, PODS, SERVICES } from '../config/kube/resource-types.js';
import { SourceUnreadableError } from './read-files.js';
import { validate } from './run-validate.js';

const NS = 'validate';
const api = new FakeKubeApi();
let dir: string;
let kubeconfig: string;

const poolRef = (name: string) => ({ group: 'inference.networking.k8s.io', kind: 'InferencePool', name });

before(async () => {
  await api.start();
  dir = await mkdtemp(join(tmpdir(), 'infergate-validate-kube-'));
  kubeconfig = join(dir, 'kubeconfig');
  await api.writeKubeconfig(kubeconfig, NS);
  const pool = (name: string, app: string, port: number) => ({ apiVersion: INFERENCE_POOLS.apiVersion, kind: 'InferencePool', metadata: { name, namespace: NS }, spec: { selector: { matchLabels: { app } }, targetPorts: [{ number: port }] } });
  api.put(collectionPath(INFERENCE_POOLS, NS), pool('gemma', 'gemma', 8000));
  api.put(collectionPath(INFERENCE_POOLS, NS), pool('broken', 'x', 80000));
  api.put(collectionPath(HTTP_ROUTES, NS), {
    apiVersion: HTTP_ROUTES.apiVersion,
    kind: 'HTTPRoute',
    metadata: { name: 'gemma', namespace: NS },
    spec: {
      rules: [
        { matches: [{ headers: [{ name: 'X-Gateway-Base-Model-Name', value: 'google/gemma-2b-it' }] }], backendRefs: [poolRef('gemma')] },
        { matches: [{ headers: [{ name: 'X-Gateway-Model-Name', value: 'gemma-chat-lora' }] }], backendRefs: [poolRef('gemma-pool')] },
      ],
    },
  });
  api.put(collectionPath(CONFIG_MAPS, NS), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gemma', namespace: NS, labels: { 'inference.networking.k8s.io/bbr-managed': 'true' } }, data: { baseModel: 'google/gemma-2b-it', adapters: '- gemma-sql-lora' } });
  api.put(collectionPath(PODS, NS), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'gemma-0', namespace: NS, labels: { app: 'gemma' } },
    spec: { containers: [{ name: 'vllm', args: ['--model', 'google/gemma-2b-it', '--lora-modules', 'gemma-sql-lora=/a/sql', 'gemma-chat-lora=/a/chat'] }] },
    status: { podIP: '10.9.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
  });
});

after(async () => {
  await api.stop();
  await rm(dir, { recursive: true, force: true });
});

test('validate --kube reads pools, routes, allowlists and the pools\' pods (with their vLLM args) once, then stops watching', async () => {
  const report = await validate({ kube: { kubeconfig } });
  assert.deepEqual(
    report.findings.map((f) => [f.severity, f.code, f.object && `${f.object.kind} ${f.object.namespace}/${f.object.name}`, f.location, f.field]),
    [
      ['error', 'backend-pool-missing', `HTTPRoute ${NS}/gemma`, null, 'spec.rules[1].backendRefs[0]'],
      ['error', 'pool-no-ready-pods', `InferencePool ${NS}/broken`, null, 'spec.selector.matchLabels'],
      ['error', 'invalid-object', `InferencePool ${NS}/broken`, null, 'spec.targetPorts[0].number'],
    ],
  );
  // gemma-chat-lora is in no allowlist, but the pod's --lora-modules loads it: served, so no model-not-served.
  assert.deepEqual(report.summary.servers, { total: 1, known: 1, from: ['vLLM args'] });
  assert.match(report.findings[2]!.message, /must be an integer from 1 to 65535/);
  await until(() => api.openWatches === 0, 'every watch to close');
});

test("validate --kube: an optional kind the credentials may not list is a warning (its objects went unchecked); one whose CRD is not installed is normal", async () => {
  const llmd = collectionPath(INFERENCE_OBJECTIVES, NS);
  const legacy = collectionPath(LEGACY_INFERENCE_OBJECTIVES, NS);
  api.forbid(llmd);
  api.hide(legacy);
  try {
    const report = await validate({ kube: { kubeconfig } });
    const forbidden = report.findings.filter((f) => f.code === 'kind-forbidden');
    assert.deepEqual(forbidden.map((f) => [f.severity, f.object, f.location, f.field]), [['warning', null, null, null]]);
    assert.match(forbidden[0]!.message, /^InferenceObjectives \(llm-d\.ai\/v1alpha2\) could not be listed: access is forbidden \(.*403 Forbidden/);
    assert.match(forbidden[0]!.fix, /Grant get, list and watch on inferenceobjectives in API group llm-d\.ai/);
  } finally {
    api.forbid(llmd, false);
    api.hide(legacy, false);
  }
});

test('validate --kube: a pool naming its EndpointPickerConfig by a name no ConfigMap can have is a finding, not a list that never ends', async () => {
  const pools = collectionPath(INFERENCE_POOLS, NS);
  api.put(pools, { apiVersion: INFERENCE_POOLS.apiVersion, kind: 'InferencePool', metadata: { name: 'badcfg', namespace: NS, annotations: { 'infergate.io/endpoint-picker-config': 'epp,cfg' } }, spec: { selector: { matchLabels: { app: 'gemma' } }, targetPorts: [{ number: 8000 }] } });
  try {
    const report = await validate({ kube: { kubeconfig, timeoutMs: 10_000 } });
    const found = report.findings.filter((f) => f.code === 'epp-config-missing');
    assert.deepEqual(found.map((f) => [f.object?.name, f.field]), [['badcfg', 'metadata.annotations.infergate.io/endpoint-picker-config']]);
    assert.match(found[0]!.message, /^"epp,cfg" is not a ConfigMap name \(lowercase letters, digits, '-' and '.'\), so it names none/);
  } finally {
    api.remove(pools, 'badcfg');
  }
});

test("validate --kube: a pool whose endpointPickerRef names a Service that does not exist (or an ExternalName one) is an error, as serve --kube answers its requests 500", async () => {
  const pools = collectionPath(INFERENCE_POOLS, NS);
  const services = collectionPath(SERVICES, NS);
  const refPool = (name: string, ref: string) => ({ apiVersion: INFERENCE_POOLS.apiVersion, kind: 'InferencePool', metadata: { name, namespace: NS }, spec: { selector: { matchLabels: { app: 'gemma' } }, targetPorts: [{ number: 8000 }], endpointPickerRef: { name: ref, port: { number: 9002 } } } });
  api.put(pools, refPool('no-epp', 'gemma-epp'));
  api.put(pools, refPool('external-name', 'elsewhere'));
  api.put(pools, refPool('has-epp', 'infergate'));
  api.put(services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'elsewhere', namespace: NS }, spec: { type: 'ExternalName', externalName: 'epp.example.com' } });
  api.put(services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'infergate', namespace: NS }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', ports: [{ port: 9002 }] } });
  try {
    const report = await validate({ kube: { kubeconfig, timeoutMs: 10_000 } });
    const found = report.findings.filter((f) => f.code === 'picker-ref-missing');
    assert.deepEqual(found.map((f) => [f.severity, f.object?.name, f.field]), [
      ['error', 'external-name', 'spec.endpointPickerRef.name'],
      ['error', 'no-epp', 'spec.endpointPickerRef.name'],
    ]);
    assert.match(found[1]!.message, new RegExp(`^spec\\.endpointPickerRef names Service ${NS}/gemma-epp, which does not exist: serve --kube answers every request routed to InferencePool ${NS}/no-epp with 500 invalid_endpoint_picker_ref`));
    assert.match(found[0]!.message, /an ExternalName Service; GIE forbids those/);
    assert.match(found[1]!.fix, /^Create that Service in namespace validate/);
    // Said once, as this error: not again as the gateway's logged warning.
    assert.deepEqual(report.findings.filter((f) => f.message.includes('invalid_endpoint_picker_ref')).map((f) => f.code), ['picker-ref-missing', 'picker-ref-missing']);
    // Credentials that may not read Services leave refs unjudged, as serve --kube under the same RBAC picks for them.
    api.forbid(services);
    try {
      const blind = await validate({ kube: { kubeconfig, timeoutMs: 10_000 } });
      assert.deepEqual(blind.findings.filter((f) => f.code === 'picker-ref-missing' || f.code === 'kind-forbidden'), []);
    } finally {
      api.forbid(services, false);
    }
  } finally {
    for (const name of ['no-epp', 'external-name', 'has-epp']) api.remove(pools, name);
    for (const name of ['elsewhere', 'infergate']) api.remove(services, name);
  }
});

test('validate --kube gives up after its timeout, saying which list it could not get', async () => {
  // Not refused for good: an API server that is starting may answer the next try.
  api.unavailable(collectionPath(HTTP_ROUTES, NS));
  try {
    await assert.rejects(
      validate({ kube: { kubeconfig, timeoutMs: 300, reflector: { backoff: { initialMs: 20, maxMs: 50, jitter: 0 } } } }),
      (e: Error) => e instanceof SourceUnreadableError && /no full list from the Kubernetes API after 300 ms: .*httproutes\.gateway\.networking\.k8s\.io in namespace validate \(.*503 ServiceUnavailable/.test(e.message),
    );
  } finally {
    api.unavailable(collectionPath(HTTP_ROUTES, NS), false);
  }
});

test('validate --kube stops at the first list refused for good (403, a CRD not installed), not at its timeout', { timeout: 20_000 }, async () => {
  const slow = { timeoutMs: 600_000, reflector: { backoff: { initialMs: 20, maxMs: 50, jitter: 0 } } };
  api.forbid(collectionPath(HTTP_ROUTES, NS));
  try {
    await assert.rejects(
      validate({ kube: { kubeconfig, ...slow } }),
      (e: Error) => e instanceof SourceUnreadableError && /^cannot list httproutes\.gateway\.networking\.k8s\.io in namespace validate: .*403 Forbidden.*grant get, list and watch on httproutes/.test(e.message),
    );
  } finally {
    api.forbid(collectionPath(HTTP_ROUTES, NS), false);
  }
  api.hide(collectionPath(INFERENCE_POOLS, NS));
  try {
    await assert.rejects(
      validate({ kube: { kubeconfig, ...slow } }),
      (e: Error) => e instanceof SourceUnreadableError && /^cannot list inferencepools\.inference\.networking\.k8s\.io in namespace validate: the InferencePool CRD \(inference\.networking\.k8s\.io\/v1\) is not installed/.test(e.message),
    );
  } finally {
    api.hide(collectionPath(INFERENCE_POOLS, NS), false);
  }
});

test('validate --kube with a kubeconfig that does not exist cannot read the cluster', async () => {
  await assert.rejects(validate({ kube: { kubeconfig: join(dir, 'nope') } }), (e: Error) => e instanceof SourceUnreadableError && /no such file/.test(e.message));
});
