/**
 * The admission of sheddable requests without flow control, when the EndpointPickerConfig names a
 * concurrency-detector as its saturation detector: llm-d's legacy admission asks that detector (the requests in
 * flight against maxConcurrency x endpoints), not the pods' scraped queues.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { baseModelRouteYaml, podYaml, poolYaml, waitFor, type Fleet } from '../helpers/fleet.js';
import { withFleetGateway } from '../helpers/fleet-gateway.js';

const M = 'model/ca';
const docs = (fleet: Fleet): string[] => [
  ...[...fleet.sims.keys()].map((n) => podYaml(n, fleet.ipOf(n), { app: 'ca' })),
  poolYaml('pool', { app: 'ca' }, fleet.port),
  baseModelRouteYaml('r', M, [['pool', 1]]),
  `apiVersion: llm-d.ai/v1alpha2
kind: InferenceObjective
metadata: {name: batch}
spec: {priority: -1, poolRef: {group: inference.networking.k8s.io, name: pool}}
`,
];
/** No feature gate: the legacy admission, gated by one request in flight per endpoint. */
const EPP = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: concurrency-detector
  parameters: {maxConcurrency: 1}
- type: queue-scorer
saturationDetector: {pluginRef: concurrency-detector}
`;

test('a concurrency-detector named as the saturation detector sheds sheddable requests while the pool is full, without flow control', async () => {
  const replicas = [{ name: 'p0', labels: {}, model: M, ttftMs: 0, itlMs: 20, maxNumSeqs: 4 }];
  await withFleetGateway(154, replicas, docs, async (t) => {
    const batch = { headers: { 'x-llm-d-inference-objective': 'batch' } };
    // Idle: the sheddable request goes.
    assert.equal((await t.client.completions.create({ model: M, prompt: 'a', max_tokens: 1 }, batch)).model, M);
    // One request in flight fills the pool's only slot.
    const hold = t.client.completions.create({ model: M, prompt: 'hold', max_tokens: 60 });
    const inFlight = async (): Promise<boolean> => /^infergate_endpoint_in_flight_requests\{[^}]*\} 1$/m.test(await (await fetch(`${t.gw.adminUrl}/metrics`)).text());
    assert.ok(await waitFor(inFlight, 3000), 'the long request is in flight');
    const e = await t.client.completions.create({ model: M, prompt: 'b', max_tokens: 1 }, batch).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(e instanceof OpenAI.APIError, 'the sheddable request is refused while the pool is full');
    assert.equal(e.status, 429);
    assert.equal(e.code, 'request_shed');
    assert.match(e.message, /concurrency-detector's maxConcurrency 1/);
    // Priority 0 is never shed.
    assert.equal((await t.client.completions.create({ model: M, prompt: 'c', max_tokens: 1 })).model, M);
    await hold;
  }, { eppConfig: { text: EPP, file: 'concurrency-admission.yaml' } });
});

