/** decode-filter, prefill-filter, encode-filter: llm-d's roles on the llm-d.ai/role label. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { context, endpoint } from '../framework/test-fixtures.js';
import { loadEndpointPickerConfig } from '../config/load-endpoint-picker-config.js';
import { registerBuiltins } from './register-builtins.js';
import { isFilter } from '../framework/plugin.js';

describe('role filters', () => {
  const roles = [undefined, 'decode', 'prefill', 'encode', 'prefill-decode', 'both', 'encode-prefill', 'encode-prefill-decode', 'other'];
  const eps = roles.map((role, i) => endpoint(`10.0.0.${i + 1}`).labels(role === undefined ? {} : { 'llm-d.ai/role': role }).build());
  const cases: { type: string; kept: (string | undefined)[] }[] = [
    { type: 'decode-filter', kept: [undefined, 'decode', 'prefill-decode', 'both', 'encode-prefill-decode'] },
    { type: 'prefill-filter', kept: ['prefill', 'prefill-decode', 'both', 'encode-prefill', 'encode-prefill-decode'] },
    { type: 'encode-filter', kept: ['encode', 'encode-prefill', 'encode-prefill-decode'] },
  ];
  for (const c of cases) {
    test(`${c.type} keeps ${c.kept.map((r) => r ?? '(no label)').join(', ')}`, () => {
      const f = registerBuiltins().create(c.type, c.type);
      if (!isFilter(f)) throw new Error('not a filter');
      const kept = f.filter(context(), eps).map((ep) => ep.pod.meta.labels['llm-d.ai/role']);
      assert.deepEqual(kept, c.kept);
    });
  }

  test('decode-filter keeps every pod of a pool without roles (its input itself)', () => {
    const plain = [endpoint('10.0.0.1').build(), endpoint('10.0.0.2').build()];
    const f = registerBuiltins().create('decode-filter', 'd');
    if (!isFilter(f)) throw new Error('not a filter');
    assert.equal(f.filter(context(), plain), plain);
  });

  test('a filter that keeps nothing says which roles it wanted', () => {
    const f = registerBuiltins().create('prefill-filter', 'p');
    if (!isFilter(f) || !f.whyEmpty) throw new Error('no whyEmpty');
    assert.equal(f.filter(context(), [endpoint('10.0.0.1').build()]).length, 0);
    assert.match(f.whyEmpty(context()), /llm-d\.ai\/role set to prefill, encode-prefill/);
  });

  test("llm-d's deprecated by-label is refused, naming what replaces it", () => {
    assert.throws(() => registerBuiltins().create('by-label', 'b', { label: 'llm-d.ai/role', validValues: ['decode'] }), /unknown plugin type `by-label`: llm-d's deprecated label filter: use label-selector-filter .*or decode-filter, prefill-filter or encode-filter for llm-d\.ai\/role;/);
  });

  test('they take no parameters', () => {
    assert.throws(() => registerBuiltins().create('decode-filter', 'd', { label: 'x' }), /parameters\.label: unknown parameter; decode-filter takes no parameters/);
  });

  test("llm-d's sample config without P/D (deploy/config/epp-config.yaml) loads unchanged", () => {
    const yaml = [
      'apiVersion: llm-d.ai/v1alpha1',
      'kind: EndpointPickerConfig',
      'plugins:',
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
    ].join('\n');
    const loaded = loadEndpointPickerConfig(yaml, { file: 'epp-config.yaml', registry: registerBuiltins() });
    const profile = loaded.schedulerConfig.profiles.get('default');
    assert.ok(profile);
    assert.deepEqual(loaded.warnings, []);
    assert.ok(loaded.schedulerConfig.plugins.get('decode-filter'));
  });
});
