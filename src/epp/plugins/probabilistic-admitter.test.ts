/** probabilistic-admitter: the shedding curve, who is never shed, and its config as llm-d writes it. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Scheduler } from '../framework/scheduler.js';
import { context, endpoint, request } from '../framework/test-fixtures.js';
import { loadEndpointPickerConfig } from '../config/load-endpoint-picker-config.js';
import { registerBuiltins } from './register-builtins.js';
import { ProbabilisticAdmitter } from './probabilistic-admitter.js';

const pod = (waiting: number, kv: number) => endpoint('10.4.0.1').waiting(waiting).kv(kv).build();

describe('probabilistic-admitter', () => {
  const a = new ProbabilisticAdmitter();

  test("llm-d's curve with its defaults: about 2.3% at load 0.15, 9.6% at 0.2, all from (1/300)^(1/5) = 0.3196", () => {
    assert.equal(a.probability(0.15).toFixed(4), '0.0228');
    assert.equal(a.probability(0.2).toFixed(3), '0.096');
    assert.equal(a.probability(0.32), 1);
    assert.ok(a.probability(0.319) < 1);
    assert.equal(a.probability(0), 0);
  });

  test('the load: the mean of each endpoint\'s max(waiting / 5, KV / 0.8); an endpoint without metrics counts 1', () => {
    assert.equal(a.load([pod(1, 0.08), pod(0, 0.4)]), (0.2 + 0.5) / 2);
    assert.equal(a.load([endpoint('10.4.0.2').build(), pod(0, 0)]), 0.5);
  });

  test('priority 0 or more is always admitted; a sheddable one is refused when the draw falls under the probability', () => {
    const busy = [pod(1, 0.1)]; // load 0.2: 9.6%
    const draw = (priority: number, r: number) => a.admit(context(request({ priority }), () => r), busy);
    assert.equal(draw(0, 0), undefined);
    assert.equal(draw(5, 0), undefined);
    assert.match(draw(-1, 0.05) ?? '', /^sheddable request shed at pool load 0\.200 \(shed probability 0\.10\)$/);
    assert.equal(draw(-1, 0.2), undefined);
    assert.equal(a.admit(context(request({ priority: -1 }), () => 0), []), undefined, 'no candidates: admitted, the pick says why');
  });

  test("llm-d's sample config loads; the scheduler names the plugin that refused; parameters are checked", () => {
    const loaded = loadEndpointPickerConfig(
      `apiVersion: llm-d.ai/v1alpha1
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
`,
      { file: 'pa.yaml', registry: registerBuiltins(), implicitServedModelFilter: false },
    );
    assert.deepEqual(loaded.warnings, []);
    const scheduler = new Scheduler(loaded.schedulerConfig);
    assert.equal(scheduler.admits, true);
    assert.match(scheduler.admit(context(request({ priority: -1 }), () => 0.5), [pod(5, 0.8)]) ?? '', /^probabilistic-admitter \(probabilistic-admitter\): sheddable request shed at pool load 1\.000/);
    for (const [params, want] of [
      [{ power: 0 }, /parameters\.power: must be above 0/],
      [{ k: -1 }, /parameters\.k: must be above 0/],
      [{ queueDepthThreshold: 2.5 }, /parameters\.queueDepthThreshold: must be a positive integer/],
      [{ kvCacheUtilThreshold: 0 }, /parameters\.kvCacheUtilThreshold: must be above 0/],
    ] as const) {
      assert.throws(() => registerBuiltins().create('probabilistic-admitter', 'p', params), want);
    }
  });
});
