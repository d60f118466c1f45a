/** approx-prefix-cache-producer: its parameters reach the prefix-cache-scorers that read it. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadEndpointPickerConfig } from '../config/load-endpoint-picker-config.js';
import type { LoadedEndpointPickerConfig } from '../config/build-scheduler-config.js';
import { registerBuiltins } from './register-builtins.js';
import { PrefixCacheScorer } from './prefix-cache-scorer.js';

const HEAD = 'apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\n';
const load = (yaml: string): LoadedEndpointPickerConfig => loadEndpointPickerConfig(HEAD + yaml, { file: 'epp.yaml', registry: registerBuiltins() });

function scorer(loaded: LoadedEndpointPickerConfig, name: string): PrefixCacheScorer {
  const p = loaded.schedulerConfig.plugins.get(name);
  if (!(p instanceof PrefixCacheScorer)) throw new Error(`${name} is no prefix-cache-scorer`);
  return p;
}

describe('approx-prefix-cache-producer', () => {
  test("llm-d's sim-epp-config.yaml loads: a scorer naming no producer reads the one with the default name", () => {
    const loaded = load(
      [
        'plugins:',
        '- type: approx-prefix-cache-producer',
        '  parameters:',
        '    maxPrefixTokensToMatch: 16384',
        '    lruCapacityPerServer: 31250',
        '- type: prefix-cache-scorer',
        '- type: decode-filter',
        '- type: max-score-picker',
        '- type: single-profile-handler',
        'schedulingProfiles:',
        '- name: default',
        '  plugins:',
        '  - pluginRef: decode-filter',
        '  - pluginRef: max-score-picker',
        '  - pluginRef: prefix-cache-scorer',
        '    weight: 2',
      ].join('\n'),
    );
    assert.deepEqual(loaded.warnings, []);
    const s = scorer(loaded, 'prefix-cache-scorer');
    assert.equal(s.params.maxPrefixTokensToMatch, 16384);
    assert.equal(s.params.prefixMatchInfoProducerName, '');
    assert.deepEqual(s.requiredData, []);
  });

  test('named producers: each scorer takes the parameters of the one it names, its own on top', () => {
    const loaded = load(
      [
        'plugins:',
        '- {name: gpu, type: approx-prefix-cache-producer, parameters: {blockSizeTokens: 16, lruCapacityPerServer: 1000}}',
        '- {name: cpu, type: approx-prefix-cache-producer, parameters: {blockSizeTokens: 64, autoTune: false}}',
        '- {name: gpuScorer, type: prefix-cache-scorer, parameters: {prefixMatchInfoProducerName: gpu}}',
        '- {name: cpuScorer, type: prefix-cache-scorer, parameters: {prefixMatchInfoProducerName: cpu, lruCapacityPerServer: 7}}',
      ].join('\n'),
    );
    assert.deepEqual(loaded.warnings, []);
    const gpu = scorer(loaded, 'gpuScorer').params;
    const cpu = scorer(loaded, 'cpuScorer').params;
    assert.deepEqual([gpu.blockBytes, gpu.lruCapacityPerServer, gpu.autoTune], [64, 1000, true]);
    assert.deepEqual([cpu.blockBytes, cpu.lruCapacityPerServer, cpu.autoTune], [256, 7, false]);
  });

  test('a producer with a bad parameter is reported once, at the producer', () => {
    assert.throws(
      () => load('plugins:\n- {name: gpu, type: approx-prefix-cache-producer, parameters: {blockSizeTokens: 0}}\n- {type: prefix-cache-scorer, parameters: {prefixMatchInfoProducerName: gpu}}\n'),
      /^EndpointPickerConfigError: invalid EndpointPickerConfig: epp\.yaml:4: plugins\[0\] "gpu" \(approx-prefix-cache-producer\): parameters\.blockSizeTokens: must be a positive integer, got 0$/,
    );
  });

  test('a producer no scorer reads is said to do nothing', () => {
    const loaded = load('plugins:\n- {name: gpu, type: approx-prefix-cache-producer}\n- {type: prefix-cache-scorer}\n');
    assert.deepEqual(loaded.warnings, [
      'epp.yaml: plugins[0] "gpu" (approx-prefix-cache-producer): is read by no prefix-cache-scorer (one naming it in prefixMatchInfoProducerName), so its parameters do nothing',
    ]);
  });

  test('its parameters are checked as the scorer checks them', () => {
    assert.throws(() => registerBuiltins().create('approx-prefix-cache-producer', 'a', { prefixMatchInfoProducerName: 'x' }), /parameters\.prefixMatchInfoProducerName: unknown parameter/);
  });
});
