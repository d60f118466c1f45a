/**
 * `endpointPickerRef` in Kubernetes mode against a real API server (issue #13 part 2, GIE's
 * InferencePoolInvalidEPPService): a pool whose ref names a Service that does not exist answers 500 and
 * reports ResolvedRefs False / InvalidExtensionRef on its Gateway parent; creating the Service fixes both.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startGateway, type RunningGateway } from '../../src/cli/start-gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { startFleet, type Fleet } from '../helpers/fleet.js';
import { applyCrds, createNamespace, startLocalKube, type LocalKube } from '../helpers/local-kube.js';
import { INFERENCE_POOL } from '../helpers/kube-test-client.js';
import { eventually } from '../helpers/until.js';

const MODEL = 'conformance-fake-model';

let kube: LocalKube;
let fleet: Fleet;

before(async () => {
  kube = await startLocalKube();
  await applyCrds(kube.client);
  fleet = await startFleet(86, [{ name: 'primary-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 1 }]);
});

after(async () => {
  await fleet?.close();
  await kube?.close();
});

const pool = (ns: string, name: string, epp: string) => ({
  apiVersion: 'inference.networking.k8s.io/v1',
  kind: 'InferencePool',
  metadata: { name, namespace: ns },
  spec: { selector: { matchLabels: { app: 'primary' } }, targetPorts: [{ number: fleet.port }], endpointPickerRef: { name: epp, kind: 'Service', port: { number: 9002 } } },
});

const service = (ns: string, name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector: { app: name }, ports: [{ protocol: 'TCP', port: 9002, targetPort: 9002 }] } });

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** The pool's conditions for Gateway `infergate`, by type (empty until written). */
async function conditions(ns: string, name: string): Promise<Record<string, Condition>> {
  const obj = await kube.client.get(INFERENCE_POOL, ns, name);
  const parents = ((obj?.status as { parents?: { parentRef: { name: string }; conditions: Condition[] }[] } | undefined)?.parents ?? []);
  const parent = parents.find((p) => p.parentRef.name === 'infergate');
  return Object.fromEntries((parent?.conditions ?? []).map((c) => [c.type, c]));
}

/** Polls `check` every 50 ms up to `ms`; fails naming `what` and the last thing seen. */
test('a pool whose endpointPickerRef names a missing Service answers 500 and reports ResolvedRefs=False/InvalidExtensionRef; creating the Service fixes both', { timeout: 60_000 }, async () => {
  const ns = await createNamespace(kube.client, 'epp-ref');
  await kube.client.createPod(ns, 'primary-0', { app: 'primary' }, fleet.port);
  await kube.client.setPodStatus(ns, 'primary-0', { ip: fleet.ipOf('primary-0'), ready: true });
  await kube.client.apply(service(ns, 'primary-endpoint-picker-svc'));
  await kube.client.apply(pool(ns, 'primary-inference-pool', 'primary-endpoint-picker-svc'));
  await kube.client.apply(pool(ns, 'pool-with-invalid-epp', 'non-existent-epp-svc'));
  await kube.client.apply({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'routes', namespace: ns },
    spec: {
      parentRefs: [{ name: 'infergate' }],
      rules: [
        { matches: [{ path: { type: 'PathPrefix', value: '/invalid-epp-test' } }], backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'pool-with-invalid-epp' }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/v1/' } }], backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'primary-inference-pool' }] },
      ],
    },
  });
  const level = (process.env.INFERGATE_TEST_LOG as 'debug' | undefined) ?? 'silent';
  const gw: RunningGateway = await startGateway({ kube: { kubeconfig: kube.kubeconfigPath, namespace: ns, writePoolStatus: true }, host: '127.0.0.1', port: 0, log: createLogger(level), debounceMs: 20 });
  try {
    // The suite's request: a GET on the route to the pool with the invalid ref.
    const res = await fetch(`${gw.url}/invalid-epp-test`);
    assert.equal(res.status, 500);
    const body = (await res.json()) as { error: { code: string; type: string; message: string } };
    assert.equal(body.error.code, 'invalid_endpoint_picker_ref');
    assert.equal(body.error.type, 'server_error');
    assert.match(body.error.message, new RegExp(`InferencePool ${ns}/pool-with-invalid-epp has no endpoint picker: spec\\.endpointPickerRef names Service ${ns}/non-existent-epp-svc, which does not exist`));

    // The pool whose Service exists is served.
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 5000 });
    const ok = await client.completions.create({ model: MODEL, prompt: 'hi', max_tokens: 1 }).withResponse();
    assert.equal(ok.response.headers.get('x-inference-pod'), 'primary-0');

    await eventually('the invalid pool reports InvalidExtensionRef', 10_000, async () => (await conditions(ns, 'pool-with-invalid-epp')).ResolvedRefs?.status === 'False');
    const bad = await conditions(ns, 'pool-with-invalid-epp');
    assert.deepEqual(
      { accepted: [bad.Accepted?.status, bad.Accepted?.reason], resolved: [bad.ResolvedRefs?.status, bad.ResolvedRefs?.reason] },
      { accepted: ['True', 'Accepted'], resolved: ['False', 'InvalidExtensionRef'] },
    );
    assert.match(bad.ResolvedRefs!.message, /non-existent-epp-svc, which does not exist; requests to this pool get 500 invalid_endpoint_picker_ref/);
    await eventually('the valid pool reports ResolvedRefs', 10_000, async () => (await conditions(ns, 'primary-inference-pool')).ResolvedRefs?.status === 'True');

    // Creating the Service resolves the ref: the status flips and the route is served.
    await kube.client.apply(service(ns, 'non-existent-epp-svc'));
    await eventually('the pool is served once its Service exists', 10_000, async () => (await fetch(`${gw.url}/invalid-epp-test`)).headers.get('x-inference-pod') === 'primary-0');
    await eventually('ResolvedRefs turns True', 10_000, async () => (await conditions(ns, 'pool-with-invalid-epp')).ResolvedRefs?.reason === 'ResolvedRefs');
  } finally {
    await gw.close();
  }
});
