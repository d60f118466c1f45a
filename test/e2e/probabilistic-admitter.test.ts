/**
 * llm-d's probabilistic-admitter through `serve`, with llm-d's own sample config (its utilization detector made
 * unreachable, so the admitter alone sheds): a saturated pool refuses sheddable requests with 429 and serves the
 * others; idle, it sheds nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { eppConfigMapYaml } from '../../src/config/manifests.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor } from '../helpers/fleet.js';

const MODEL = 'model/pa';
const CONFIG = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: probabilistic-admitter
- type: random-picker
- type: utilization-detector
  parameters:
    queueDepthThreshold: 999999999
    kvCacheUtilThreshold: 1.0
flowControl:
  saturationDetector:
    pluginRef: utilization-detector
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: random-picker
`;

const objective = (name: string, priority: number) => `apiVersion: llm-d.ai/v1alpha2
kind: InferenceObjective
metadata: {name: ${name}}
spec: {priority: ${priority}, poolRef: {group: inference.networking.k8s.io, name: busy}}
`;

test('a loaded pool sheds sheddable requests through probabilistic-admitter; others wait their turn; idle, nothing is shed', async () => {
  const fleet = await startFleet(199, [{ name: 'pa-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 10, maxNumSeqs: 1 }]);
  const pool = poolYaml('busy', { m: 'pa' }, fleet.port).replace('metadata:\n  name: busy', 'metadata:\n  name: busy\n  annotations: {infergate.io/endpoint-picker-config: admit}');
  const cfg = await tempConfig({
    'all.yaml': [podYaml('pa-0', fleet.ipOf('pa-0'), { m: 'pa' }), pool, baseModelRouteYaml('pa', MODEL, [['busy', 1]]), objective('batch', -1), objective('chat', 10), eppConfigMapYaml('admit', CONFIG)].join('---\n'),
  });
  const gw = await startTestGateway(cfg.dir);
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const batch = { headers: { 'x-llm-d-inference-objective': 'batch' } };
    assert.equal((await client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 1 }, batch)).model, MODEL, 'idle: admitted');
    // One slot and five 40-token requests: four wait, pool load 0.8 at the default queueDepthThreshold of 5, where llm-d's curve sheds all.
    const load = Array.from({ length: 5 }, () => client.completions.create({ model: MODEL, prompt: 'long', max_tokens: 40 }));
    const ep = gw.gateway.datastore.endpoint(`${fleet.ipOf('pa-0')}:${fleet.port}`)!;
    assert.ok(await waitFor(() => (ep.metrics?.waitingQueueSize ?? 0) >= 3, 3000), `waiting never reached 3: ${JSON.stringify(ep.metrics)}`);
    await assert.rejects(client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 1 }, batch), (e: unknown) => {
      assert.ok(e instanceof OpenAI.RateLimitError, String(e));
      assert.equal(e.code, 'request_shed');
      assert.match(e.message, /refused this request: probabilistic-admitter \(probabilistic-admitter\): sheddable request shed at pool load/);
      return true;
    });
    const chat = client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 1 }, { headers: { 'x-llm-d-inference-objective': 'chat' } });
    await Promise.all(load);
    assert.equal((await chat).model, MODEL, 'priority 10 is never shed');
  } finally {
    await gw.close();
    await fleet.close();
    await cfg.remove();
  }
});
