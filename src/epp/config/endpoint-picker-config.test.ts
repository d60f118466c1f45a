/** EndpointPickerConfig loading: llm-d's YAML and defaults, and every error naming file, line, plugin or profile, field. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFilter } from '../framework/plugin.js';
import { registerBuiltins } from '../plugins/register-builtins.js';
import { DEFAULT_SATURATION_THRESHOLDS } from '../plugins/utilization-detector.js';
import type { LoadedEndpointPickerConfig } from './build-scheduler-config.js';
import { DEFAULT_ENDPOINT_PICKER_CONFIG_YAML, defaultEndpointPickerConfig, loadDefaultEndpointPickerConfig } from './default-endpoint-picker-config.js';
import { EndpointPickerConfigError } from './epp-config-error.js';
import { loadEndpointPickerConfig, loadEndpointPickerConfigFile } from './load-endpoint-picker-config.js';

const registry = registerBuiltins();
const HEAD = 'apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\n';

function load(yaml: string, options: { implicitServedModelFilter?: boolean } = {}): LoadedEndpointPickerConfig {
  return loadEndpointPickerConfig(yaml, { file: 'epp.yaml', registry, ...options });
}

/** Profile -> its plugins as `name` or `name*weight` for scorers, in slot order (filters, scorers, picker). */
function shape(c: LoadedEndpointPickerConfig): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, p] of c.schedulerConfig.profiles) {
    out[name] = [...p.filters.map((f) => f.name), ...p.scorers.map((s) => `${s.scorer.name}*${s.weight}`), p.picker.name];
  }
  return out;
}

function problems(yaml: string): string[] {
  try {
    load(yaml);
  } catch (err) {
    if (err instanceof EndpointPickerConfigError) {
      return err.message
        .split('\n')
        .map((l) => l.replace(/^ {2}- /, '').replace(/^invalid EndpointPickerConfig: /, ''))
        .filter((l) => !l.startsWith('invalid EndpointPickerConfig ('));
    }
    throw err;
  }
  return [];
}

describe('valid configs', () => {
  const cases: { name: string; yaml: string; want: Record<string, string[]>; handler?: string; warnings?: RegExp[] }[] = [
    {
      name: "llm-d's documented example: picker and handler added, weight kept",
      yaml: `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: prefix-cache-scorer
  parameters:
    blockSizeTokens: 5
    maxPrefixBlocksToMatch: 256
    lruCapacityPerServer: 31250
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: prefix-cache-scorer
    weight: 50
`,
      want: { default: ['served-model-filter', 'prefix-cache-scorer*50', 'max-score-picker'] },
      handler: 'single-profile-handler',
    },
    {
      name: 'names default to types; a scorer without weight counts once; filters keep their order',
      yaml: `${HEAD}plugins:
- type: label-selector-filter
  parameters: {matchLabels: {role: decode}}
- name: busy
  type: utilization-detector
- type: queue-scorer
- name: kv
  type: kv-cache-utilization-scorer
- type: weighted-random-picker
- type: single-profile-handler
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: label-selector-filter
  - pluginRef: busy
  - pluginRef: queue-scorer
  - pluginRef: kv
    weight: 2.5
  - pluginRef: weighted-random-picker
`,
      want: { default: ['served-model-filter', 'label-selector-filter', 'busy', 'queue-scorer*1', 'kv*2.5', 'weighted-random-picker'] },
      handler: 'single-profile-handler',
    },
    {
      name: 'no profiles: one named default with every filter, scorer and picker (llm-d)',
      yaml: `${HEAD}plugins:\n- type: queue-scorer\n- type: random-picker\n`,
      want: { default: ['served-model-filter', 'queue-scorer*1', 'random-picker'] },
    },
    {
      name: 'an explicit served-model-filter replaces the implicit one',
      yaml: `${HEAD}plugins:\n- type: served-model-filter\n  parameters: {fallbackOnEmpty: true}\n- type: queue-scorer\nschedulingProfiles:\n- name: p\n  plugins:\n  - pluginRef: queue-scorer\n  - pluginRef: served-model-filter\n`,
      want: { p: ['served-model-filter', 'queue-scorer*1', 'max-score-picker'] },
    },
    {
      name: 'ignored llm-d sections and deprecated parameters load with warnings',
      yaml: `${HEAD}featureGates: [dataLayer]\nflowControl: {maxBytes: 1Gi}\nplugins:\n- type: prefix-cache-scorer\n  parameters: {blockSize: 64}\n- type: queue-scorer\n`,
      want: { default: ['served-model-filter', 'prefix-cache-scorer*1', 'queue-scorer*1', 'max-score-picker'] },
      warnings: [/epp\.yaml: featureGates: dataLayer is not used by infergate/, /epp\.yaml: flowControl is ignored except saturationDetector/, /plugins\[0\] \(prefix-cache-scorer\): parameters\.blockSize is deprecated/],
    },
    {
      name: "a parser or a data producer listed in a profile (llm-d's request-attribute-reporter-config.yaml) is skipped, with a warning",
      yaml: `${HEAD}plugins:\n- type: openai-parser\n- type: token-producer\n- type: queue-scorer\nschedulingProfiles:\n- name: default\n  plugins:\n  - pluginRef: openai-parser\n  - pluginRef: token-producer\n  - pluginRef: queue-scorer\n`,
      want: { default: ['served-model-filter', 'queue-scorer*1', 'max-score-picker'] },
      warnings: [
        /epp\.yaml: schedulingProfiles\[0\] \(default\): plugins\[0\]\.pluginRef: "openai-parser" \(openai-parser\) is not a filter, scorer or picker and is skipped$/,
        /epp\.yaml: schedulingProfiles\[0\] \(default\): plugins\[1\]\.pluginRef: "token-producer" \(token-producer\) is not a filter, scorer or picker and is skipped: a data producer runs for every request whether a profile lists it or not$/,
      ],
    },
    {
      name: "a profile without a picker takes the one picker the config declares, as llm-d's does",
      yaml: `${HEAD}plugins:\n- type: queue-scorer\n- {name: wr, type: weighted-random-picker}\nschedulingProfiles:\n- name: p\n  plugins:\n  - pluginRef: queue-scorer\n`,
      want: { p: ['served-model-filter', 'queue-scorer*1', 'wr'] },
    },
    {
      name: 'with two pickers declared and none in the profile, max-score-picker; the others are said to do nothing',
      yaml: `${HEAD}plugins:\n- type: queue-scorer\n- type: weighted-random-picker\n- type: random-picker\nschedulingProfiles:\n- name: p\n  plugins:\n  - pluginRef: queue-scorer\n`,
      want: { p: ['served-model-filter', 'queue-scorer*1', 'max-score-picker'] },
      warnings: [/plugins\[1\] \(weighted-random-picker\) is referenced by no scheduling profile/, /plugins\[2\] \(random-picker\) is referenced by no scheduling profile/],
    },
    {
      name: 'an unreferenced scorer is allowed, with a warning; weight 0 is a valid weight',
      yaml: `${HEAD}plugins:\n- type: queue-scorer\n- type: load-aware-scorer\nschedulingProfiles:\n- name: p\n  plugins:\n  - pluginRef: queue-scorer\n    weight: 0\n`,
      want: { p: ['served-model-filter', 'queue-scorer*0', 'max-score-picker'] },
      warnings: [/plugins\[1\] \(load-aware-scorer\) is referenced by no scheduling profile/],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const loaded = load(c.yaml);
      assert.deepEqual(shape(loaded), c.want);
      if (c.handler) assert.equal(loaded.schedulerConfig.handler.type, c.handler);
      for (const w of c.warnings ?? []) assert.ok(loaded.warnings.some((x) => w.test(x)), `no warning ${w} in ${JSON.stringify(loaded.warnings)}`);
      if (!c.warnings) assert.deepEqual(loaded.warnings, []);
    });
  }

  test('the implicit served-model-filter fails closed on unknown model lists and can be turned off', () => {
    const on = load(`${HEAD}plugins:\n- type: queue-scorer\n`);
    const filter = on.schedulerConfig.profiles.get('default')?.filters[0];
    assert.ok(filter && isFilter(filter));
    assert.equal((filter as unknown as { onMissing: string }).onMissing, 'Fail');
    const off = load(`${HEAD}plugins:\n- type: queue-scorer\n`, { implicitServedModelFilter: false });
    assert.deepEqual(shape(off), { default: ['queue-scorer*1', 'max-score-picker'] });
  });

  test('every plugin instance is kept by name, referenced or not', () => {
    const c = load(`${HEAD}plugins:\n- type: queue-scorer\n- type: single-profile-handler\n`);
    assert.deepEqual([...c.schedulerConfig.plugins.keys()].sort(), ['max-score-picker', 'queue-scorer', 'served-model-filter', 'single-profile-handler']);
  });
});

describe('the default config', () => {
  test("llm-d's default: queue 2, kv-cache 2, prefix 3, max-score picker, single profile", () => {
    const c = loadDefaultEndpointPickerConfig(registry);
    assert.deepEqual(shape(c), { default: ['served-model-filter', 'queue-scorer*2', 'kv-cache-utilization-scorer*2', 'prefix-cache-scorer*3', 'max-score-picker'] });
    assert.equal(c.schedulerConfig.handler.type, 'single-profile-handler');
    assert.deepEqual(c.warnings, []);
  });
  test('the spec and the YAML say the same', () => {
    const spec = defaultEndpointPickerConfig();
    assert.deepEqual(spec.schedulingProfiles[0]?.plugins.map((p) => [p.pluginRef, p.weight]), [
      ['queue-scorer', 2],
      ['kv-cache-utilization-scorer', 2],
      ['prefix-cache-scorer', 3],
    ]);
    assert.match(DEFAULT_ENDPOINT_PICKER_CONFIG_YAML, /weight: 3/);
  });
});

describe('saturation thresholds', () => {
  const cases: { name: string; yaml: string; want: Partial<typeof DEFAULT_SATURATION_THRESHOLDS> }[] = [
    { name: 'defaults', yaml: `${HEAD}plugins: []\n`, want: DEFAULT_SATURATION_THRESHOLDS },
    {
      name: "GIE's saturationDetector block",
      yaml: `${HEAD}plugins: []\nsaturationDetector:\n  queueDepthThreshold: 8\n  kvCacheUtilThreshold: 0.75\n  metricsStalenessThreshold: 150ms\n`,
      want: { queueDepthThreshold: 8, kvCacheUtilThreshold: 0.75, metricsStalenessThresholdMs: 150 },
    },
    {
      name: "llm-d's pluginRef to a utilization-detector",
      yaml: `${HEAD}plugins:\n- name: sat\n  type: utilization-detector\n  parameters: {queueDepthThreshold: 3}\nsaturationDetector: {pluginRef: sat}\n`,
      want: { queueDepthThreshold: 3 },
    },
    {
      name: "current llm-d's flowControl.saturationDetector.pluginRef",
      yaml: `${HEAD}flowControl:\n  saturationDetector: {pluginRef: sat}\nplugins:\n- name: sat\n  type: utilization-detector\n  parameters: {headroom: 0.2}\n`,
      want: { headroom: 0.2 },
    },
    {
      name: 'a plugin named utilization-detector is the default detector',
      yaml: `${HEAD}plugins:\n- type: utilization-detector\n  parameters: {kvCacheUtilThreshold: 0.9}\n`,
      want: { kvCacheUtilThreshold: 0.9 },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const s = load(c.yaml).saturation;
      for (const [k, v] of Object.entries(c.want)) assert.equal(s[k as keyof typeof s], v, k);
    });
  }
});

describe('invalid configs', () => {
  const cases: { name: string; yaml: string; want: string[] }[] = [
    { name: 'empty file', yaml: '', want: ['epp.yaml: is empty; expected an EndpointPickerConfig document'] },
    { name: 'not YAML', yaml: 'plugins: [\n', want: ['epp.yaml:2: YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1'] },
    {
      name: 'wrong apiVersion and kind',
      yaml: 'apiVersion: v1\nkind: ConfigMap\n',
      want: ['epp.yaml:1: apiVersion: must be one of llm-d.ai/v1alpha1, inference.networking.x-k8s.io/v1alpha1, got "v1"', 'epp.yaml:2: kind: must be EndpointPickerConfig, got "ConfigMap"'],
    },
    {
      name: 'unknown top-level field (llm-d decodes strictly)',
      yaml: `${HEAD}plugin: []\n`,
      want: ['epp.yaml:3: plugin: unknown field; known fields: apiVersion, kind, plugins, schedulingProfiles, saturationDetector, featureGates, flowControl, data, dataLayer, parser, requestHandler, requestControl'],
    },
    {
      name: 'plugin entries: missing type, unknown field, parameters not a mapping, duplicate names',
      yaml: `${HEAD}plugins:\n- name: a\n- type: queue-scorer\n  weight: 2\n- type: load-aware-scorer\n  parameters: [1]\n- type: queue-scorer\n`,
      want: [
        'epp.yaml:4: plugins[0]: type: is required: the plugin type, such as queue-scorer',
        'epp.yaml:6: plugins[1] (queue-scorer): weight: unknown field; known fields: name, type, parameters',
        'epp.yaml:8: plugins[2] (load-aware-scorer): parameters: must be a mapping, got a list',
        'epp.yaml:9: plugins[3] (queue-scorer): name: duplicates the name of plugins[1]; names must be unique (a plugin without name is named by its type)',
      ],
    },
    {
      name: 'profile entries: missing name, duplicate, weight not a number',
      yaml: `${HEAD}plugins:\n- type: queue-scorer\nschedulingProfiles:\n- plugins: []\n- name: p\n  plugins:\n  - pluginRef: queue-scorer\n    weight: heavy\n- name: p\n  plugins: []\n`,
      want: [
        'epp.yaml:6: schedulingProfiles[0]: name: is required',
        'epp.yaml:10: schedulingProfiles[1] (p): plugins[0].weight: must be a number, got "heavy"',
        'epp.yaml:11: schedulingProfiles[2] (p): name: duplicates another profile name',
      ],
    },
    {
      name: 'a negative weight is reported with the other problems, not alone',
      yaml: `${HEAD}plugins:\n- type: queue-scorer\n  parameters: {x: 1}\n- type: kv-cache-utilization-scorer\nschedulingProfiles:\n- name: default\n  plugins:\n  - pluginRef: queue-scorer\n  - pluginRef: kv-cache-utilization-scorer\n    weight: -1\n  - pluginRef: lora-scorer\n`,
      want: [
        'epp.yaml:5: plugins[0] (queue-scorer): parameters.x: unknown parameter; queue-scorer takes no parameters',
        'epp.yaml:12: schedulingProfiles[0] (default): plugins[1].weight: must not be negative, got -1',
        'epp.yaml:13: schedulingProfiles[0] (default): plugins[2].pluginRef: no plugin named "lora-scorer"; plugins: queue-scorer, kv-cache-utilization-scorer',
      ],
    },
    {
      name: 'bad parameters name the plugin and the parameter; one bad plugin does not hide the next',
      yaml: `${HEAD}plugins:\n- type: queue-scorer\n- type: prefix-cache-scorer\n  parameters:\n    blockSizeTokens: x\n- name: lru\n  type: no-hit-lru-scorer\n  parameters: {lruSise: 3}\n- type: warp-scorer\n`,
      want: [
        'epp.yaml:7: plugins[1] (prefix-cache-scorer): parameters.blockSizeTokens: must be a positive integer, got "x"',
        'epp.yaml:10: plugins[2] "lru" (no-hit-lru-scorer): parameters.lruSise: unknown parameter (did you mean lruSize?); known parameters: lruSize, prefillProfile, prefixMatchInfoProducerName, prefixPluginName, prefixPluginType',
        'epp.yaml:11: plugins[3] (warp-scorer): type: unknown plugin type `warp-scorer`; registered types: ' + registry.types().join(', '),
      ],
    },
    {
      name: 'references: missing plugin, listed twice, a profile handler, two pickers',
      yaml: `${HEAD}plugins:\n- type: queue-scorer\n- type: max-score-picker\n- type: random-picker\n- type: single-profile-handler\nschedulingProfiles:\n- name: a\n  plugins:\n  - pluginRef: queu-scorer\n  - pluginRef: queue-scorer\n  - pluginRef: queue-scorer\n  - pluginRef: single-profile-handler\n- name: b\n  plugins:\n  - pluginRef: max-score-picker\n  - pluginRef: random-picker\n`,
      want: [
        'epp.yaml:11: schedulingProfiles[0] (a): plugins[0].pluginRef: no plugin named "queu-scorer" (did you mean queue-scorer?); plugins: queue-scorer, max-score-picker, random-picker, single-profile-handler',
        'epp.yaml:13: schedulingProfiles[0] (a): plugins[2].pluginRef: "queue-scorer" is listed twice in this profile',
        'epp.yaml:14: schedulingProfiles[0] (a): plugins[3].pluginRef: "single-profile-handler" is a profile handler; it is declared under plugins only, never in a profile',
        'epp.yaml:15: schedulingProfiles[1] (b): plugins: has 2 pickers (max-score-picker, random-picker); a profile takes exactly one',
        'epp.yaml:8: schedulingProfiles: single-profile-handler runs one profile; this config has 2',
      ],
    },
    {
      name: 'a missing reference lists every declared plugin, those that failed to build included',
      yaml: `${HEAD}plugins:\n- type: queue-scorer\n- type: prefix-cache-scorer\n  parameters: {blockSizeTokens: 0}\n- type: kv-cache-scorer\n- name: picker\n  type: max-score-picker\nschedulingProfiles:\n- name: default\n  plugins:\n  - pluginRef: queue-scorer\n  - pluginRef: prefix-cache-scorer\n  - pluginRef: kv-cache-utilization-scorer\n`,
      want: [
        'epp.yaml:6: plugins[1] (prefix-cache-scorer): parameters.blockSizeTokens: must be a positive integer, got 0',
        'epp.yaml:7: plugins[2] (kv-cache-scorer): type: unknown plugin type `kv-cache-scorer`; registered types: ' + registry.types().join(', '),
        'epp.yaml:15: schedulingProfiles[0] (default): plugins[2].pluginRef: no plugin named "kv-cache-utilization-scorer"; plugins: queue-scorer, prefix-cache-scorer, kv-cache-scorer, picker',
      ],
    },
    {
      name: 'two profiles need a handler',
      yaml: `${HEAD}plugins:\n- type: queue-scorer\nschedulingProfiles:\n- name: prefill\n  plugins: [{pluginRef: queue-scorer}]\n- name: decode\n  plugins: [{pluginRef: queue-scorer}]\n`,
      want: ['epp.yaml:5: schedulingProfiles: 2 profiles need a profile handler plugin that chooses between them'],
    },
    {
      name: 'saturation settings are checked too',
      yaml: `${HEAD}plugins: [{type: queue-scorer}]\nsaturationDetector:\n  kvCacheUtilThreshold: 80\n`,
      want: ['epp.yaml:5: saturationDetector.kvCacheUtilThreshold: must be at most 1, got 80'],
    },
    {
      name: 'a saturationDetector pluginRef must name a utilization-detector',
      yaml: `${HEAD}plugins: [{type: queue-scorer}]\nsaturationDetector: {pluginRef: queue-scorer}\n`,
      want: ['epp.yaml:4: saturationDetector.pluginRef: must name a utilization-detector or concurrency-detector plugin, got "queue-scorer"'],
    },
    {
      name: "current llm-d's flowControl.saturationDetector, gate on: said once, with its line",
      yaml: `${HEAD}featureGates: [flowControl]\nplugins: [{type: queue-scorer}]\nflowControl:\n  saturationDetector: {pluginRef: queue-scorer}\n`,
      want: ['epp.yaml:6: flowControl: saturationDetector.pluginRef: must name a utilization-detector or concurrency-detector plugin, got "queue-scorer"'],
    },
    {
      name: 'flowControl.saturationDetector without the gate (the legacy admission reads it): named under flowControl, with its line',
      yaml: `${HEAD}plugins: [{type: queue-scorer}]\nflowControl:\n  saturationDetector: {pluginRef: queue-scorer}\n`,
      want: ['epp.yaml:5: flowControl: saturationDetector.pluginRef: must name a utilization-detector or concurrency-detector plugin, got "queue-scorer"'],
    },
    {
      name: "GIE's thresholds under flowControl.saturationDetector are named there",
      yaml: `${HEAD}plugins: [{type: queue-scorer}]\nflowControl:\n  saturationDetector:\n    kvCacheUtilThreshold: 80\n`,
      want: ['epp.yaml:6: flowControl: saturationDetector.kvCacheUtilThreshold: must be at most 1, got 80'],
    },
    {
      name: "a misspelt type names the nearest registered one; llm-d's data-parallel and P2P plugins say they are not built here",
      yaml: `${HEAD}plugins:\n- type: queue-scorrer\n- type: data-parallel-profile-handler\n- type: p2p-source-producer\n`,
      want: [
        'epp.yaml:4: plugins[0] (queue-scorrer): type: unknown plugin type `queue-scorrer` (did you mean queue-scorer?); registered types: ' + registry.types().join(', '),
        "epp.yaml:5: plugins[1] (data-parallel-profile-handler): type: unknown plugin type `data-parallel-profile-handler`: llm-d's data-parallel rank routing and P2P KV pull (x-data-parallel-host-port, x-kv-cache-source-host-port), which infergate does not implement; P/D disaggregation itself is disagg-profile-handler (docs/plugins.md); registered types: " + registry.types().join(', '),
        "epp.yaml:6: plugins[2] (p2p-source-producer): type: unknown plugin type `p2p-source-producer`: llm-d's data-parallel rank routing and P2P KV pull (x-data-parallel-host-port, x-kv-cache-source-host-port), which infergate does not implement; P/D disaggregation itself is disagg-profile-handler (docs/plugins.md); registered types: " + registry.types().join(', '),
      ],
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(problems(c.yaml), c.want));

  test('one problem reads as one line', () => {
    assert.throws(() => load(`${HEAD}plugins: 3\n`), /^EndpointPickerConfigError: invalid EndpointPickerConfig: epp\.yaml:3: plugins: must be a list, got 3$/);
  });
});

describe('featureGates', () => {
  const FC = 'plugins: [{type: queue-scorer}]\nflowControl: {maxRequests: 10}\n';
  const cases: { gates: string; on: boolean; warnings: string[] }[] = [
    { gates: '[flowControl]', on: true, warnings: [] },
    { gates: '["flowControl=true"]', on: true, warnings: [] },
    { gates: '["flowControl=TRUE", "haPopulateNonLeaderDatastore=false"]', on: true, warnings: ['epp.yaml: featureGates: haPopulateNonLeaderDatastore is not used by infergate and is ignored'] },
    { gates: '["flowControl=false"]', on: false, warnings: ['epp.yaml: flowControl is ignored except saturationDetector: add featureGates: [flowControl] to turn flow control on'] },
    { gates: '["flowControl=0"]', on: false, warnings: ['epp.yaml: flowControl is ignored except saturationDetector: add featureGates: [flowControl] to turn flow control on'] },
  ];
  for (const c of cases) {
    test(`${c.gates}: llm-d's gate=<bool> form; flow control ${c.on ? 'on' : 'off'}`, () => {
      const loaded = load(`${HEAD}featureGates: ${c.gates}\n${FC}`);
      assert.equal(loaded.flowControl !== undefined, c.on);
      assert.deepEqual(loaded.spec.featureGates, c.on ? ['flowControl'] : []);
      assert.deepEqual(loaded.warnings, c.warnings);
    });
  }

  test('a gate with a value that is no boolean, and a misspelt flowControl, are refused', () => {
    assert.deepEqual(problems(`${HEAD}featureGates: ["flowControl=yes", flowcontrol]\n${FC}`), [
      'epp.yaml:3: featureGates[0]: "yes" is not a valid value for the feature gate flowControl: use true or false (flowControl=true), or the name alone',
      'epp.yaml:3: featureGates[1]: unknown feature gate "flowcontrol" (did you mean flowControl?); llm-d refuses unknown gates too',
    ]);
  });
});

test('loads from a file, naming it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'epp-'));
  const file = join(dir, 'epp.yaml');
  await writeFile(file, `${HEAD}plugins:\n- type: queue-scorer\n  parameters: {x: 1}\n`);
  await assert.rejects(loadEndpointPickerConfigFile(file, { registry }), (e: Error) => e.message.includes(`${file}:5: plugins[0] (queue-scorer): parameters.x: unknown parameter; queue-scorer takes no parameters`));
});
