/**
 * llm-d's plugin types infergate does not build, grouped by why (registered with `PluginRegistry.notBuilt`), so a
 * config that names one is told what it asks for and what to do, not only that the type is unknown.
 */

export interface NotBuiltGroup {
  types: readonly string[];
  why: string;
}

export const NOT_BUILT: readonly NotBuiltGroup[] = [
  {
    types: ['data-parallel-profile-handler', 'p2p-source-producer'],
    why: "llm-d's data-parallel rank routing and P2P KV pull (x-data-parallel-host-port, x-kv-cache-source-host-port), which infergate does not implement; P/D disaggregation itself is disagg-profile-handler (docs/plugins.md)",
  },
  {
    types: ['topology-extractor', 'topology-affinity-filter', 'topology-affinity-scorer'],
    why: "llm-d's topology affinity between a request's prefill and decode pods (its pd-topology-epp-config.yaml), which infergate does not implement; remove the three and their profile entries, and P/D disaggregation still runs, the prefill pod picked without regard to where the decode pod is (as llm-d's pd-epp-config.yaml)",
  },
  {
    types: ['predicted-latency-producer', 'latency-scorer', 'latency-slo-admitter', 'slo-headroom-tier-filter'],
    why: "llm-d's latency-predictor routing (a trained model in a sidecar), which infergate does not implement; remove it and score load with queue-scorer, kv-cache-utilization-scorer or active-request-scorer",
  },
  {
    types: ['by-label'],
    why: "llm-d's deprecated label filter: use label-selector-filter (matchExpressions: [{key: <label>, operator: In, values: <validValues>}]), or decode-filter, prefill-filter or encode-filter for llm-d.ai/role",
  },
  {
    types: ['program-aware-fairness', 'slo-deadline-ordering-policy', 'soft-reflective-ceiling-policy', 'priority-holdback-policy', 'sheddable-eviction-filter', 'priority-then-time-eviction-order-policy'],
    why: "an llm-d flow-control policy infergate does not implement; the built-in ones are global-strict-fairness-policy, round-robin-fairness-policy, fcfs-ordering-policy and edf-ordering-policy (docs/flow-control.md)",
  },

  {
    types: [
      'burst-prefix-cache-producer',
      'prefix-cache-affinity-filter',
      'endpoint-attribute-filter',
      'endpoint-attribute-scorer',
      'mm-embeddings-cache-producer',
      'mm-embeddings-cache-scorer',
      'dcgm-data-source',
      'dcgm-extractor',
    ],
    why: "an llm-d plugin infergate does not implement; remove it and the references to it (docs/plugins.md lists the built-in plugins)",
  },
];
