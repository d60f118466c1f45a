/** EndpointPickerConfigs shared by end-to-end tests (gateway and ext_proc). */

/** Session affinity dominates (weight 100), queue length breaks the first pick. */
export const SESSION_AFFINITY_CONFIG = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: session-affinity-scorer
  - type: queue-scorer
  - type: max-score-picker
schedulingProfiles:
  - name: default
    plugins:
      - {pluginRef: session-affinity-scorer, weight: 100}
      - {pluginRef: queue-scorer, weight: 1}
`;

/**
 * Flow control on, one request in flight per endpoint (concurrency-detector, maxConcurrency 1): every other
 * request waits in the queues. `flowControl` is the flowControl block's lines besides its saturation detector.
 */
export const onePerEndpoint = (flowControl: string): string => `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl]
plugins:
- type: concurrency-detector
  parameters: {maxConcurrency: 1}
- type: queue-scorer
flowControl:
  saturationDetector: {pluginRef: concurrency-detector}
${flowControl.trimEnd().replace(/^/gm, '  ')}
`;

/**
 * llm-d's P/D with every request disaggregated (always-disagg-pd-decider): the prefill profile on llm-d.ai/role
 * prefill pods, the decode profile on decode pods, queue length breaking ties.
 */
export const ALWAYS_PD_CONFIG = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: prefill-filter
- type: decode-filter
- type: queue-scorer
- type: always-disagg-pd-decider
- type: disagg-profile-handler
  parameters:
    deciders: {prefill: always-disagg-pd-decider}
schedulingProfiles:
- name: prefill
  plugins: [{pluginRef: prefill-filter}, {pluginRef: queue-scorer}]
- name: decode
  plugins: [{pluginRef: decode-filter}, {pluginRef: queue-scorer}]
`;
