/**
 * `endpointPickerRef` in Kubernetes mode against a real API server (issue #13 part 2, GIE's
 * InferencePoolInvalidEPPService): a pool whose ref names a Service that does not exist answers 500 and
 * reports ResolvedRefs False / InvalidExtensionRef on its Gateway parent; creating the Service fixes both.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import type { Fleet } from '../helpers/fleet.js';
import type { LocalKube } from '../helpers/local-kube.js';
import { INFERENCE_POOL } from '../helpers/kube-test-client.js';
import { startKubeStatusEnv, type KubeStatusEnv } from '../helpers/kube-status-env.js';
import { eventually } from '../helpers/until.js';

const MODEL = 'conformance-fake-model';

let env: KubeStatusEnv;
let kube: LocalKube;
let fleet: Fleet;

before(async () => {
  env = await startKubeStatusEnv(86, 'primary-0', MODEL);
  ({ kube, fleet } = env);
});

after(() => env?.close());

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

test('a pool whose endpointPickerRef names a missing Service answers 500 and reports ResolvedRefs=False/InvalidExtensionRef; creating the Service fixes both', { timeout: 60_000 }, async () => {
  const ns = await env.namespaceWithPod('epp-ref', { app: 'primary' });
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
  const gw: RunningGateway = await env.serve(ns);
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
