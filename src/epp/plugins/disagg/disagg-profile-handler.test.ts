/** llm-d's disaggregation handlers, deciders and their config, over the scheduler as the gateway runs it. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../../framework/cycle-state.js';
import type { SchedulingContext } from '../../framework/plugin.js';
import { Scheduler } from '../../framework/scheduler.js';
import type { SchedulingRequest } from '../../framework/scheduling-request.js';
import { NOW, endpoint } from '../../framework/test-fixtures.js';
import { loadEndpointPickerConfig } from '../../config/load-endpoint-picker-config.js';
import { EndpointPickerConfigError } from '../../config/epp-config-error.js';
import { registerBuiltins } from '../register-builtins.js';
import { PrefixCacheScorer } from '../prefix-cache-scorer.js';
import type { DisaggProfileHandler} from './disagg-profile-handler.js';
import { type DisaggDecision } from './disagg-profile-handler.js';

const ROLE = 'llm-d.ai/role';
const fleet = [
  endpoint('10.1.0.1').labels({ [ROLE]: 'decode' }).metrics().build(),
  endpoint('10.1.0.2').labels({ [ROLE]: 'decode' }).metrics().build(),
  endpoint('10.1.0.3').labels({ [ROLE]: 'prefill' }).metrics().build(),
  endpoint('10.1.0.4').labels({ [ROLE]: 'encode' }).metrics().build(),
];

const PD_CONFIG = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: prefill-filter
- type: decode-filter
- type: prefix-cache-scorer
- type: queue-scorer
- type: max-score-picker
- type: prefix-based-pd-decider
  parameters:
    nonCachedTokens: 64
- type: disagg-profile-handler
  parameters:
    deciders:
      prefill: prefix-based-pd-decider
schedulingProfiles:
- name: prefill
  plugins:
  - pluginRef: prefill-filter
  - pluginRef: prefix-cache-scorer
  - pluginRef: queue-scorer
- name: decode
  plugins:
  - pluginRef: decode-filter
  - pluginRef: prefix-cache-scorer
  - pluginRef: queue-scorer
`;

function load(text: string): { scheduler: Scheduler; warnings: string[] } {
  const loaded = loadEndpointPickerConfig(text, { file: 'pd.yaml', registry: registerBuiltins(), implicitServedModelFilter: false });
  return { scheduler: new Scheduler(loaded.schedulerConfig), warnings: loaded.warnings };
}

function ctx(prompt: string, body?: Record<string, unknown>): SchedulingContext {
  const req: SchedulingRequest = { requestId: 'r', model: 'llama', prompt, priority: 0, header: () => undefined, ...(body ? { body } : {}) };
  return { request: req, state: new CycleState(), pool: 'default/pool', now: NOW, random: () => 0.5 };
}

function loadError(text: string): string {
  try {
    load(text);
  } catch (e) {
    if (e instanceof EndpointPickerConfigError) return e.message;
    throw e;
  }
  assert.fail('the config loaded');
}

describe('disagg-profile-handler with prefix-based-pd-decider', () => {
  test('a long prompt no decode pod holds is prefilled on a prefill pod; sent again, the decode pod holds it and prefills it itself', () => {
    const { scheduler } = load(PD_CONFIG);
    const decisions: DisaggDecision[] = [];
    (scheduler.config.handler as DisaggProfileHandler).decisionObserver = (_h, _m, d) => decisions.push(d);
    const prompt = 'You are a careful assistant. '.repeat(40);
    const first = scheduler.schedule(ctx(prompt), fleet);
    assert.equal(first.primaryProfile, 'decode');
    assert.match(first.endpoint!.address, /^10\.1\.0\.[12]:8000$/);
    assert.deepEqual(first.requestHeaders, { 'x-prefiller-host-port': '10.1.0.3:8000', 'x-encoder-hosts-ports': undefined });
    assert.deepEqual([...first.results.keys()], ['decode', 'prefill']);
    assert.deepEqual(first.stageEndpoints?.map((e) => e.address), ['10.1.0.3:8000'], 'the prefill pod works for it too');
    for (const p of scheduler.config.plugins.values()) if (p instanceof PrefixCacheScorer) p.flush();
    const second = scheduler.schedule(ctx(prompt), fleet);
    assert.equal(second.endpoint, first.endpoint, 'the prefix keeps the request on its decode pod');
    assert.deepEqual(second.requestHeaders, { 'x-prefiller-host-port': undefined, 'x-encoder-hosts-ports': undefined });
    assert.deepEqual([...second.results.keys()], ['decode']);
    assert.equal(second.stageEndpoints, undefined);
    assert.deepEqual(decisions, ['prefill-decode', 'decode-only']);
  });

  test('a prompt shorter than nonCachedTokens, or than promptTokens, is never disaggregated', () => {
    const { scheduler } = load(PD_CONFIG);
    assert.equal(scheduler.schedule(ctx('short question'), fleet).requestHeaders?.['x-prefiller-host-port'], undefined);
    const gated = load(PD_CONFIG.replace('nonCachedTokens: 64', 'nonCachedTokens: 64\n    promptTokens: 100000')).scheduler;
    assert.equal(gated.schedule(ctx('x'.repeat(4000)), fleet).requestHeaders?.['x-prefiller-host-port'], undefined);
  });

  test('without prefill pods the decode pod does the whole request (the prefill profile picks nothing, no header)', () => {
    const { scheduler } = load(PD_CONFIG);
    const out = scheduler.schedule(ctx('y'.repeat(4000)), fleet.filter((e) => e.pod.meta.labels[ROLE] !== 'prefill'));
    assert.match(out.endpoint!.address, /^10\.1\.0\.[12]:8000$/);
    assert.equal(out.requestHeaders?.['x-prefiller-host-port'], undefined);
  });

  test('a failover schedules afresh: the decider is asked again, not remembered from the first attempt', () => {
    const { scheduler } = load(PD_CONFIG.replace('type: prefix-based-pd-decider\n  parameters:\n    nonCachedTokens: 64', 'type: always-disagg-pd-decider').replaceAll('prefill: prefix-based-pd-decider', 'prefill: always-disagg-pd-decider'));
    const c = ctx('z');
    const first = scheduler.schedule(c, fleet);
    const again = scheduler.schedule(c, fleet.filter((e) => e !== first.endpoint));
    assert.equal(again.requestHeaders?.['x-prefiller-host-port'], '10.1.0.3:8000');
    assert.notEqual(again.endpoint, first.endpoint);
  });
});

describe('IPv6 pods', () => {
  test('the headers carry bracketed addresses, as llm-d writes them with net.JoinHostPort', () => {
    const v6 = [
      endpoint('fd00::1').labels({ [ROLE]: 'decode' }).metrics().build(),
      endpoint('fd00::3').labels({ [ROLE]: 'prefill' }).metrics().build(),
      endpoint('fd00::4').labels({ [ROLE]: 'encode' }).metrics().build(),
      endpoint('fd00::5').labels({ [ROLE]: 'encode' }).metrics().build(),
    ];
    const EPD = PD_CONFIG.replace('- type: max-score-picker\n', '- type: max-score-picker\n- name: two\n  type: max-score-picker\n  parameters: {maxNumOfEndpoints: 2}\n- type: encode-filter\n- type: always-disagg-multimodal-decider\n- type: always-disagg-pd-decider\n')
      .replace('prefill: prefix-based-pd-decider', 'prefill: always-disagg-pd-decider\n      encode: always-disagg-multimodal-decider') + '- name: encode\n  plugins:\n  - pluginRef: encode-filter\n  - pluginRef: two\n';
    const image = { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] };
    const out = load(EPD).scheduler.schedule(ctx('what is this?', image), v6);
    assert.equal(out.endpoint!.address, '[fd00::1]:8000');
    assert.equal(out.requestHeaders?.['x-prefiller-host-port'], '[fd00::3]:8000');
    assert.deepEqual(out.requestHeaders?.['x-encoder-hosts-ports']?.split(',').sort(), ['[fd00::4]:8000', '[fd00::5]:8000'], 'maxNumOfEndpoints 2: both encode pods');
  });
});

describe('E/P/D and prefill-first', () => {
  const EPD = PD_CONFIG.replace('- type: disagg-profile-handler\n  parameters:\n    deciders:\n      prefill: prefix-based-pd-decider', '- type: encode-filter\n- type: always-disagg-multimodal-decider\n- type: always-disagg-pd-decider\n- type: disagg-profile-handler\n  parameters:\n    deciders:\n      prefill: always-disagg-pd-decider\n      encode: always-disagg-multimodal-decider') + '- name: encode\n  plugins:\n  - pluginRef: encode-filter\n';

  test('a request with an image gets an encode pod as well; a text-only one does not', () => {
    const { scheduler } = load(EPD);
    const image = { messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] };
    const withImage = scheduler.schedule(ctx('what is this?', image), fleet);
    assert.deepEqual(withImage.requestHeaders, { 'x-prefiller-host-port': '10.1.0.3:8000', 'x-encoder-hosts-ports': '10.1.0.4:8000' });
    const text = scheduler.schedule(ctx('hello', { messages: [{ role: 'user', content: 'hello' }] }), fleet);
    assert.deepEqual(text.requestHeaders, { 'x-prefiller-host-port': '10.1.0.3:8000', 'x-encoder-hosts-ports': undefined });
  });

  test('prefill-first runs the prefill profile before decode, for every request', () => {
    const { scheduler } = load(PD_CONFIG.replace('    deciders:\n      prefill: prefix-based-pd-decider', '    stageOrder: Prefill_First'));
    const out = scheduler.schedule(ctx('hi'), fleet);
    assert.deepEqual([...out.results.keys()], ['prefill', 'decode']);
    assert.equal(out.primaryProfile, 'decode');
    assert.equal(out.requestHeaders?.['x-prefiller-host-port'], '10.1.0.3:8000');
  });
});

describe('their configuration, as llm-d reads it', () => {
  test("the deprecated flat parameters and pd-profile-handler load, each with a deprecation warning", () => {
    const flat = load(PD_CONFIG.replace('    deciders:\n      prefill: prefix-based-pd-decider', '    decodeProfile: decode\n    deciderPluginName: prefix-based-pd-decider'));
    assert.match(flat.warnings.join('\n'), /parameters\.deciderPluginName is deprecated \(as in llm-d\); use parameters\.deciders\.prefill/);
    const pd = load(PD_CONFIG.replace('- type: disagg-profile-handler\n  parameters:\n    deciders:\n      prefill: prefix-based-pd-decider', '- type: pd-profile-handler\n  parameters:\n    prefixPluginType: prefix-cache-scorer'));
    assert.match(pd.warnings.join('\n'), /pd-profile-handler is deprecated \(as in llm-d\); use disagg-profile-handler/);
    const decisions: string[] = [];
    const h = pd.scheduler.config.handler as DisaggProfileHandler;
    h.decisionObserver = (handler, _m, d) => decisions.push(`${handler.type}:${d}`);
    assert.equal(pd.scheduler.schedule(ctx('w'.repeat(4000)), fleet).requestHeaders?.['x-prefiller-host-port'], '10.1.0.3:8000');
    assert.deepEqual(decisions, ['pd-profile-handler:prefill-decode']);
    const headers = load(PD_CONFIG.replace('- type: max-score-picker\n', '- type: max-score-picker\n- type: prefill-header-handler\n  parameters: {prefillProfile: prefill}\n- type: disagg-headers-handler\n'));
    assert.match(headers.warnings.join('\n'), /plugins\[5\] \(prefill-header-handler\): has nothing to do here: llm-d deprecated it, and the disagg-profile-handler writes x-prefiller-host-port and x-encoder-hosts-ports itself/);
    assert.match(headers.warnings.join('\n'), /plugins\[6\] \(disagg-headers-handler\): has nothing to do here/);
  });

  test("pd-profile-handler counts its decider's answer, as llm-d's pd_decision: prefill-decode though no prefill pod is picked, nothing without a prefill profile", () => {
    const PD = PD_CONFIG.replace('- type: disagg-profile-handler\n  parameters:\n    deciders:\n      prefill: prefix-based-pd-decider', '- type: pd-profile-handler');
    const decisions: string[] = [];
    const observe = (s: Scheduler): void => {
      (s.config.handler as DisaggProfileHandler).decisionObserver = (_h, _m, d) => decisions.push(d);
    };
    const pd = load(PD).scheduler;
    observe(pd);
    const out = pd.schedule(ctx('w'.repeat(4000)), fleet.filter((e) => e.pod.meta.labels[ROLE] !== 'prefill'));
    assert.equal(out.requestHeaders?.['x-prefiller-host-port'], undefined, 'no prefill pod: the decode pod does both');
    assert.deepEqual(decisions, ['prefill-decode']);
    const decodeOnly = load(PD.replace('- name: prefill\n  plugins:\n  - pluginRef: prefill-filter\n  - pluginRef: prefix-cache-scorer\n  - pluginRef: queue-scorer\n', '')).scheduler;
    observe(decodeOnly);
    decodeOnly.schedule(ctx('w'.repeat(4000)), fleet);
    assert.deepEqual(decisions, ['prefill-decode'], 'no prefill profile: llm-d asks no decider and counts nothing');
  });

  test('mistakes are refused naming the parameter: both forms at once, an unknown decider, a plugin that is no decider, no decode profile, a prefill decider with prefill-first, primaryPort, a bad stageOrder', () => {
    const handler = '- type: disagg-profile-handler\n  parameters:\n    deciders:\n      prefill: prefix-based-pd-decider';
    const cases: [string, RegExp][] = [
      [`${handler}\n    decodeProfile: decode`, /parameters\.decodeProfile: is the deprecated flat form and deciders the current one; use one form exclusively/],
      [handler.replace('prefill: prefix-based-pd-decider', 'prefill: prefix-decider'), /parameters\.deciders\.prefill: names no plugin of this config \("prefix-decider"\)/],
      [handler.replace('prefill: prefix-based-pd-decider', 'prefill: queue-scorer'), /parameters\.deciders\.prefill: "queue-scorer" is a queue-scorer, not a decider/],
      [`${handler}\n    profiles:\n      decode: decoding`, /parameters\.profiles\.decode: names no scheduling profile \("decoding"\)/],
      [`${handler}\n    stageOrder: prefill-first`, /parameters\.deciders\.prefill: is not taken with stageOrder prefill-first/],
      [`${handler}\n    stageOrder: sideways`, /parameters\.stageOrder: must be decode-first or prefill-first, got "sideways"/],
      ['- type: pd-profile-handler\n  parameters:\n    primaryPort: 8200', /parameters\.primaryPort: routes decode requests to a data-parallel rank's port/],
      ['- type: prefix-based-pd-decider-2\n', /unknown plugin type/],
    ];
    for (const [replacement, expected] of cases) {
      assert.match(loadError(PD_CONFIG.replace(handler, replacement)), expected, replacement);
    }
  });

  test('a handler or decider that does not load is one error, not also "need a profile handler" or "names no plugin"', () => {
    const badHandler = loadError(PD_CONFIG.replace('    deciders:\n      prefill:', '    deciders:\n      prefil:'));
    assert.match(badHandler, /^invalid EndpointPickerConfig: pd\.yaml:\d+: plugins\[6\] \(disagg-profile-handler\): parameters\.deciders\.prefil: unknown parameter \(did you mean prefill\?\)/);
    assert.doesNotMatch(badHandler, /need a profile handler/);
    const badDecider = loadError(PD_CONFIG.replace('nonCachedTokens: 64', 'nonCachedTokens: -1'));
    assert.match(badDecider, /^invalid EndpointPickerConfig: pd\.yaml:\d+: plugins\[5\] \(prefix-based-pd-decider\): parameters\.nonCachedTokens: must be a non-negative integer, got -1$/);
    const unbuilt = loadError(PD_CONFIG.replace('- type: disagg-profile-handler\n  parameters:\n    deciders:\n      prefill: prefix-based-pd-decider', '- type: data-parallel-profile-handler'));
    assert.doesNotMatch(unbuilt, /need a profile handler/);
  });

  test("llm-d's pd-topology sample is refused naming its topology plugins and saying P/D runs without them", () => {
    const topology = PD_CONFIG.replace('- type: max-score-picker\n', '- type: max-score-picker\n- type: topology-extractor\n- type: topology-affinity-filter\n- type: topology-affinity-scorer\n');
    const message = loadError(topology);
    for (const [i, type] of ['topology-extractor', 'topology-affinity-filter', 'topology-affinity-scorer'].entries()) {
      assert.match(message, new RegExp(`plugins\\[${5 + i}\\] \\(${type}\\): type: unknown plugin type \`${type}\`: llm-d's topology affinity between a request's prefill and decode pods .* remove the three and their profile entries, and P/D disaggregation still runs`));
    }
  });

  test('a decider whose stage has no profile, or a stage profile no decider runs, is a warning', () => {
    const noPrefillProfile = load(PD_CONFIG.replace('- name: prefill\n  plugins:\n  - pluginRef: prefill-filter\n  - pluginRef: prefix-cache-scorer\n  - pluginRef: queue-scorer\n', ''));
    assert.match(noPrefillProfile.warnings.join('\n'), /the prefill stage never runs: there is no scheduling profile "prefill"/);
    const noDecider = load(PD_CONFIG.replace('    deciders:\n      prefill: prefix-based-pd-decider', '    profiles:\n      decode: decode'));
    assert.match(noDecider.warnings.join('\n'), /scheduling profile "prefill" never runs: no prefill decider is named \(deciders\.prefill\)/);
    const noScorer = load(PD_CONFIG.replaceAll('  - pluginRef: prefix-cache-scorer\n', '').replace('- type: prefix-cache-scorer\n', ''));
    assert.match(noScorer.warnings.join('\n'), /prefix-based-pd-decider\): reads the decode pod's cached prefix from a prefix-cache-scorer/);
  });
});
