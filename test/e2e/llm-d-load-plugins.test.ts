/**
 * llm-d's utilization-filter, running-requests-size-scorer, token-load-scorer and context-length-aware through
 * `serve`, in one EndpointPickerConfig as an llm-d user would write it: prompts go to the pod whose
 * context-length-range holds them, and a prompt no range holds is a 503 in OpenAI's shape naming its length.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eppConfigMapYaml } from '../../src/config/manifests.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig } from '../helpers/fleet.js';

const MODEL = 'model/ctx';
const RANGE = 'llm-d.ai/context-length-range';
const CONFIG = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: utilization-filter
  name: drop-overloaded
  parameters:
    conditions:
    - {metric: kv-cache-utilization, maxValue: 0.9}
    - {metric: active-requests, maxValue: 50}
    fallbackOnEmpty: true
- type: context-length-aware
  parameters: {enableFiltering: true}
- type: running-requests-size-scorer
- type: token-load-scorer
  parameters: {queueThresholdTokens: 100000}
- type: max-score-picker
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: drop-overloaded
  - pluginRef: context-length-aware
    weight: 3
  - pluginRef: running-requests-size-scorer
  - pluginRef: token-load-scorer
  - pluginRef: max-score-picker
`;

test('prompts go to the pod whose context-length range holds them; one no range holds is a 503 naming its length', async () => {
  const ranges = { 'ctx-short': '0-64', 'ctx-long': '65-1000' } as const;
  const fleet = await startFleet(186, Object.keys(ranges).map((name) => ({ name, labels: {}, model: MODEL, ttftMs: 0, itlMs: 1 })));
  const pool = poolYaml('ctx', { m: 'ctx' }, fleet.port).replace('metadata:\n  name: ctx', 'metadata:\n  name: ctx\n  annotations: {infergate.io/endpoint-picker-config: ctx}');
  const cfg = await tempConfig({
    'all.yaml': [
      ...Object.entries(ranges).map(([name, range]) => podYaml(name, fleet.ipOf(name), { m: 'ctx', [RANGE]: range })),
      pool,
      baseModelRouteYaml('ctx', MODEL, [['ctx', 1]]),
      eppConfigMapYaml('ctx', CONFIG),
    ].join('---\n'),
  });
  const gw = await startTestGateway(cfg.dir);
  try {
    const ask = (prompt: string) => fetch(`${gw.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, prompt, max_tokens: 2 }) });
    const served = async (prompt: string) => {
      const res = await ask(prompt);
      assert.equal(res.status, 200, await res.clone().text());
      await res.arrayBuffer();
      return res.headers.get('x-gateway-destination-endpoint-served');
    };
    // 40 characters: 10 tokens; 400: 100 tokens (4 characters a token)
    for (let i = 0; i < 3; i++) assert.equal(await served('x'.repeat(40)), `${fleet.ipOf('ctx-short')}:${fleet.port}`);
    for (let i = 0; i < 3; i++) assert.equal(await served('y'.repeat(400)), `${fleet.ipOf('ctx-long')}:${fleet.port}`);
    const res = await ask('z'.repeat(8000));
    assert.equal(res.status, 503);
    const body = (await res.json()) as { error: { message: string; type: string; code: string } };
    assert.equal(body.error.code, 'no_healthy_endpoint');
    assert.match(body.error.message, /filter context-length-aware \(context-length-aware\) of scheduling profile default removed every candidate: the request's ~2000 tokens/);
  } finally {
    await gw.close();
    await fleet.close();
    await cfg.remove();
  }
});
