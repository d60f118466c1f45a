/** llm-d's default request parsers load and do nothing; the ones for protocols the gateway does not speak stay unknown. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadEndpointPickerConfig } from '../config/load-endpoint-picker-config.js';
import { registerBuiltins } from './register-builtins.js';

describe('request parsers', () => {
  // llm-d's test/integration/epp/testdata/default-config.yaml, GIE's group, as its EPP is given it.
  const defaultConfig = [
    'apiVersion: inference.networking.x-k8s.io/v1alpha1',
    'kind: EndpointPickerConfig',
    'plugins:',
    '  - type: queue-scorer',
    '  - type: kv-cache-utilization-scorer',
    '  - type: prefix-cache-scorer',
    '  - type: lora-affinity-scorer',
    '  - type: openai-parser',
    'schedulingProfiles:',
    '  - name: default',
    '    plugins:',
    '      - pluginRef: queue-scorer',
    '      - pluginRef: kv-cache-utilization-scorer',
    '      - pluginRef: prefix-cache-scorer',
    '      - pluginRef: lora-affinity-scorer',
    'requestHandler:',
    '  parsers:',
    '  - pluginRef: openai-parser',
  ].join('\n');

  test('a config declaring openai-parser for requestHandler.parsers loads, with a note for each', () => {
    const loaded = loadEndpointPickerConfig(defaultConfig, { file: 'epp.yaml', registry: registerBuiltins() });
    assert.ok(loaded.schedulerConfig.profiles.get('default'));
    assert.deepEqual(loaded.warnings, [
      'epp.yaml: requestHandler is not used by infergate and is ignored',
      'epp.yaml: plugins[4] (openai-parser): has nothing to do here: the gateway reads request bodies itself',
    ]);
  });

  for (const type of ['openai-parser', 'anthropic-parser', 'vllmhttp-parser', 'passthrough-parser']) {
    test(`${type} loads; its parameters are ignored`, () => {
      const warnings: string[] = [];
      const p = registerBuiltins().create(type, 'p', { anything: 1 }, { warn: (w) => warnings.push(w) });
      assert.equal(p.type, type);
      assert.match(warnings.join('\n'), /reads request bodies itself; its parameters are ignored/);
    });
  }

  test('a parser for a protocol the gateway does not speak is still an unknown type', () => {
    assert.throws(() => registerBuiltins().create('vllmgrpc-parser', 'p'), /unknown plugin type `vllmgrpc-parser`/);
  });
});
