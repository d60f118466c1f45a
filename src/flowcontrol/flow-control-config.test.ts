/** The flowControl block of EndpointPickerConfig: llm-d's fields, defaults, references and errors. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadEndpointPickerConfig } from '../epp/config/load-endpoint-picker-config.js';
import { registerBuiltins } from '../epp/plugins/register-builtins.js';
import { UtilizationDetector } from '../epp/plugins/utilization-detector.js';
import { ConcurrencyDetector } from './concurrency-detector.js';
import { DEFAULT_ACTIVE_WINDOW_MS } from './fair-share-holdback.js';
import { DEFAULT_BAND_MAX_BYTES, DEFAULT_BAND_MAX_REQUESTS, DEFAULT_REQUEST_TTL_MS } from './flow-control-config.js';

const load = (body: string) => loadEndpointPickerConfig(`apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\n${body}`, { file: 'epp.yaml', registry: registerBuiltins() });

describe('flowControl config', () => {
  test('without the feature gate there is no flow control, and the block warns', () => {
    const l = load('flowControl:\n  maxRequests: 10\n');
    assert.equal(l.flowControl, undefined);
    assert.ok(l.warnings.some((w) => w.includes('featureGates: [flowControl]')));
  });

  test("the gate alone: llm-d's defaults", () => {
    const fc = load('featureGates: [flowControl]\n').flowControl!;
    assert.equal(fc.defaultRequestTTLMs, DEFAULT_REQUEST_TTL_MS);
    assert.equal(fc.noEndpointRequestTTLMs, DEFAULT_REQUEST_TTL_MS);
    assert.equal(fc.maxRequests, Infinity);
    assert.equal(fc.defaultBand.maxRequests, DEFAULT_BAND_MAX_REQUESTS);
    assert.equal(fc.defaultBand.fairness.type, 'global-strict-fairness-policy');
    assert.equal(fc.defaultBand.ordering.type, 'fcfs-ordering-policy');
    assert.equal(fc.detector.kind, 'utilization');
  });

  test('every field, as llm-d spells it', () => {
    const l = load(`featureGates: [flowControl]
plugins:
- type: concurrency-detector
  parameters: {maxConcurrency: 4}
- name: rr
  type: round-robin-fairness-policy
flowControl:
  maxBytes: 1Gi
  maxRequests: 100
  defaultRequestTTL: 30s
  noEndpointRequestTTL: 5s
  priorityBands:
  - priority: 10
    maxRequests: 50
    maxBytes: 10Mi
    fairnessPolicyRef: rr
    orderingPolicyRef: edf-ordering-policy
  - priority: -1
    maxRequests: 7
  saturationDetector:
    pluginRef: concurrency-detector
`);
    const fc = l.flowControl!;
    assert.equal(fc.maxBytes, 2 ** 30);
    assert.equal(fc.maxRequests, 100);
    assert.equal(fc.defaultRequestTTLMs, 30_000);
    assert.equal(fc.noEndpointRequestTTLMs, 5000);
    const b10 = fc.bands.get(10)!;
    assert.equal(b10.maxRequests, 50);
    assert.equal(b10.maxBytes, 10 * 2 ** 20);
    assert.equal(b10.fairness.name, 'rr');
    assert.equal(b10.ordering.type, 'edf-ordering-policy');
    assert.equal(fc.bands.get(-1)!.maxRequests, 7);
    assert.ok(fc.detector.kind === 'concurrency' && fc.detector.detector instanceof ConcurrencyDetector && fc.detector.detector.maxConcurrency === 4);
    assert.ok(!l.warnings.some((w) => w.includes('referenced by no scheduling profile')), l.warnings.join('\n'));
  });

  test("a written band takes what it leaves out from llm-d's defaults, not from defaultPriorityBand; an unwritten negative template is defaultPriorityBand", () => {
    const fc = load(`featureGates: [flowControl]
flowControl:
  defaultPriorityBand: {maxRequests: 100, maxBytes: 1Mi, fairnessPolicyRef: round-robin-fairness-policy, orderingPolicyRef: edf-ordering-policy}
  defaultNegativePriorityBand: {maxRequests: 10}
  priorityBands:
  - priority: 10
    maxBytes: 2Mi
  - priority: -5
    fairnessPolicyRef: round-robin-fairness-policy
`).flowControl!;
    const shape = (b: { maxRequests: number; maxBytes: number; fairness: { type: string }; ordering: { type: string } }) => [b.maxRequests, b.maxBytes, b.fairness.type, b.ordering.type];
    assert.deepEqual(shape(fc.defaultBand), [100, 2 ** 20, 'round-robin-fairness-policy', 'edf-ordering-policy']);
    // registry.applyDefaults in llm-d-router: 5000 requests, 1 GB, global-strict, fcfs for whatever a band leaves out.
    assert.deepEqual(shape(fc.defaultNegativeBand), [10, DEFAULT_BAND_MAX_BYTES, 'global-strict-fairness-policy', 'fcfs-ordering-policy']);
    assert.deepEqual(shape(fc.bands.get(10)!), [DEFAULT_BAND_MAX_REQUESTS, 2 * 2 ** 20, 'global-strict-fairness-policy', 'fcfs-ordering-policy']);
    assert.deepEqual(shape(fc.bands.get(-5)!), [DEFAULT_BAND_MAX_REQUESTS, DEFAULT_BAND_MAX_BYTES, 'round-robin-fairness-policy', 'fcfs-ordering-policy']);
    const noNegative = load('featureGates: [flowControl]\nflowControl:\n  defaultPriorityBand: {maxRequests: 100}\n').flowControl!;
    assert.equal(noNegative.defaultNegativeBand, noNegative.defaultBand, 'without defaultNegativePriorityBand, sheddable bands follow defaultPriorityBand');
  });

  test('without saturationDetector.pluginRef the detector is the utilization-detector, as llm-d, even beside a declared concurrency-detector', () => {
    const fc = load('featureGates: [flowControl]\nplugins:\n- type: concurrency-detector\n  parameters: {maxConcurrency: 1}\n- type: queue-scorer\n').flowControl!;
    assert.equal(fc.detector.kind, 'utilization');
    const named = load('featureGates: [flowControl]\nplugins:\n- type: utilization-detector\n  parameters: {queueDepthThreshold: 9}\n- type: concurrency-detector\n').flowControl!;
    assert.ok(named.detector.kind === 'utilization' && named.detector.detector.thresholds.queueDepthThreshold === 9, 'the plugin named utilization-detector');
  });

  test("the deprecated top-level saturationDetector gates flow control when flowControl names none, as llm-d copies it there; with both, flowControl's wins", () => {
    const top = load('featureGates: [flowControl]\nplugins:\n- type: concurrency-detector\n  parameters: {maxConcurrency: 3}\nsaturationDetector: {pluginRef: concurrency-detector}\n').flowControl!;
    assert.ok(top.detector.kind === 'concurrency' && top.detector.detector.maxConcurrency === 3);
    const gie = load('featureGates: [flowControl]\nsaturationDetector: {queueDepthThreshold: 9}\n').flowControl!;
    assert.ok(gie.detector.kind === 'utilization' && gie.detector.detector.thresholds.queueDepthThreshold === 9, "GIE's block of thresholds sets the default detector's");
    const both = load('plugins:\n- type: concurrency-detector\n- name: util\n  type: utilization-detector\nsaturationDetector: {pluginRef: util}\nflowControl:\n  saturationDetector: {pluginRef: concurrency-detector}\n');
    assert.ok(both.admissionDetector !== undefined, "without the gate, the legacy admission reads flowControl's detector too");
    const bothOn = load('featureGates: [flowControl]\nplugins:\n- type: concurrency-detector\n- name: util\n  type: utilization-detector\nsaturationDetector: {pluginRef: util}\nflowControl:\n  saturationDetector: {pluginRef: concurrency-detector}\n').flowControl!;
    assert.equal(bothOn.detector.kind, 'concurrency');
    assert.throws(() => load('featureGates: [flowControl]\nsaturationDetector: {pluginRef: nope}\n'), (e: Error) => (e.message.match(/pluginRef/g) ?? []).length === 1 && /epp\.yaml:\d+: saturationDetector\.pluginRef/.test(e.message));
  });

  test('a TTL past the timer limit (it would expire every queued request at once) is refused; 596h is taken', () => {
    assert.equal(load('featureGates: [flowControl]\nflowControl:\n  defaultRequestTTL: 596h\n').flowControl!.defaultRequestTTLMs, 596 * 3_600_000);
    assert.throws(() => load('featureGates: [flowControl]\nflowControl:\n  defaultRequestTTL: 1000h\n'), /defaultRequestTTL: must be at most 596h \(Node\.js keeps no timer past 24\.8 days; "0s" disables the limit\), got "1000h"/);
    assert.throws(() => load('featureGates: [flowControl]\nflowControl:\n  noEndpointRequestTTL: 900h\n'), /noEndpointRequestTTL: must be at most 596h/);
  });

  test("the usage limit policy: llm-d's static-usage-limit-policy by reference, by its default name, or its default 1.0", () => {
    assert.equal(load('featureGates: [flowControl]\n').flowControl!.usageCeiling, 1);
    const byRef = load('featureGates: [flowControl]\nplugins:\n- name: headroom\n  type: static-usage-limit-policy\n  parameters: {threshold: 0.8}\nflowControl:\n  usageLimitPolicyPluginRef: headroom\n');
    assert.deepEqual(byRef.warnings, []);
    assert.equal(byRef.flowControl!.usageCeiling, 0.8);
    assert.equal(load('featureGates: [flowControl]\nplugins:\n- type: static-usage-limit-policy\n  parameters: {threshold: 0.5}\n').flowControl!.usageCeiling, 0.5);
    for (const [body, want] of [
      ['plugins:\n- type: static-usage-limit-policy\n  parameters: {threshold: 0}\n', /parameters\.threshold: must be above 0/],
      ['plugins:\n- type: static-usage-limit-policy\n  parameters: {threshold: 1.5}\n', /parameters\.threshold: must be at most 1/],
      ['plugins:\n- type: queue-scorer\nflowControl:\n  usageLimitPolicyPluginRef: queue-scorer\n', /usageLimitPolicyPluginRef: must name a usage-limit-policy plugin/],
      ['flowControl:\n  usageLimitPolicyPluginRef: priority-holdback-policy\n', /usageLimitPolicyPluginRef: names `priority-holdback-policy`, an llm-d flow-control policy infergate does not implement/],
    ] as const) assert.throws(() => load(`featureGates: [flowControl]\n${body}`), want);
  });

  test('quantities are read as llm-d reads them: "0" is not set, a fraction rounds up to a whole request or byte', () => {
    const fc = load(`featureGates: [flowControl]
flowControl:
  maxRequests: "0"
  maxBytes: 0
  defaultPriorityBand: {maxRequests: 0, maxBytes: "0"}
  priorityBands:
  - {priority: 1, maxRequests: 100m, maxBytes: 1.1k}
  - {priority: 2, maxRequests: 2.5}
`).flowControl!;
    assert.equal(fc.maxRequests, Infinity);
    assert.equal(fc.maxBytes, Infinity);
    assert.equal(fc.defaultBand.maxRequests, DEFAULT_BAND_MAX_REQUESTS);
    assert.equal(fc.defaultBand.maxBytes, DEFAULT_BAND_MAX_BYTES);
    assert.equal(fc.bands.get(1)!.maxRequests, 1);
    assert.equal(fc.bands.get(1)!.maxBytes, 1100);
    assert.equal(fc.bands.get(2)!.maxRequests, 3);
  });

  test('stalenessPolicy on the utilization detector', () => {
    const fc = load(`featureGates: [flowControl]
plugins:
- type: utilization-detector
  parameters: {stalenessPolicy: ignore}
flowControl:
  saturationDetector: {pluginRef: utilization-detector}
`).flowControl!;
    assert.ok(fc.detector.kind === 'utilization' && fc.detector.detector instanceof UtilizationDetector && fc.detector.detector.thresholds.stalenessPolicy === 'ignore');
  });

  test("fairShareHoldback (infergate's own): off unless set, {} for the defaults, activeWindow as a duration", () => {
    const concurrency = 'plugins:\n- type: concurrency-detector\nflowControl:\n  saturationDetector: {pluginRef: concurrency-detector}\n';
    assert.equal(load(`featureGates: [flowControl]\n${concurrency}`).flowControl!.fairShareHoldback, undefined);
    assert.deepEqual(load(`featureGates: [flowControl]\n${concurrency}  fairShareHoldback: {}\n`).flowControl!.fairShareHoldback, { activeWindowMs: DEFAULT_ACTIVE_WINDOW_MS });
    assert.deepEqual(load(`featureGates: [flowControl]\n${concurrency}  fairShareHoldback: {activeWindow: 250ms}\n`).flowControl!.fairShareHoldback, { activeWindowMs: 250 });
  });

  const bad: [string, string, RegExp][] = [
    ['fairShareHoldback without the concurrency detector', 'flowControl:\n  fairShareHoldback: {}\n', /fairShareHoldback: needs saturationDetector.pluginRef to name a concurrency-detector/],
    ['fairShareHoldback unknown field', 'plugins:\n- type: concurrency-detector\nflowControl:\n  fairShareHoldback: {share: 2}\n  saturationDetector: {pluginRef: concurrency-detector}\n', /fairShareHoldback.share: unknown field/],
    ['fairShareHoldback bad window', 'plugins:\n- type: concurrency-detector\nflowControl:\n  fairShareHoldback: {activeWindow: 5}\n  saturationDetector: {pluginRef: concurrency-detector}\n', /activeWindow: must be a duration/],
    ['unknown field', 'flowControl:\n  maxQueue: 3\n', /maxQueue: unknown field/],
    ['bad quantity', 'flowControl:\n  maxBytes: lots\n', /maxBytes: must be a quantity such as 5000/],
    ['negative quantity', 'flowControl:\n  priorityBands:\n  - priority: 1\n    maxRequests: -5\n', /priorityBands\[0\]\.maxRequests: must be a quantity such as 5000 or "1Gi" \(0: not set\), got -5/],
    ['bad duration', 'flowControl:\n  defaultRequestTTL: soon\n', /defaultRequestTTL: must be a duration/],
    ['band without priority', 'flowControl:\n  priorityBands:\n  - maxRequests: 3\n', /priority: is required/],
    ['duplicate band', 'flowControl:\n  priorityBands:\n  - priority: 1\n  - priority: 1\n', /duplicates another band/],
    ['fairness ref to a non-policy', 'flowControl:\n  priorityBands:\n  - priority: 1\n    fairnessPolicyRef: queue-scorer\n', /must name a fairness-policy plugin/],
    ['ordering ref unknown', 'flowControl:\n  priorityBands:\n  - priority: 1\n    orderingPolicyRef: lifo\n', /must name an ordering-policy plugin/],
    ['a reference to an llm-d policy infergate does not build says so', 'flowControl:\n  defaultPriorityBand: {orderingPolicyRef: slo-deadline-ordering-policy}\n', /defaultPriorityBand\.orderingPolicyRef: names `slo-deadline-ordering-policy`, an llm-d flow-control policy infergate does not implement; the built-in ones are/],
    ['detector ref unknown', 'flowControl:\n  saturationDetector: {pluginRef: nope}\n', /saturationDetector.pluginRef/],
    ['bad staleness policy', 'plugins:\n- type: utilization-detector\n  parameters: {stalenessPolicy: maybe}\n', /stalenessPolicy: must be one of saturated, ignore/],
  ];
  for (const [name, body, re] of bad) {
    test(`rejects: ${name}`, () => assert.throws(() => load(`featureGates: [flowControl]\n${body}`), (e: Error) => re.test(e.message)));
  }
});
