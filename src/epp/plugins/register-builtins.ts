/** Every built-in plugin, registered by its llm-d type string in one visible list. No import side effects. */
import { PluginRegistry } from '../framework/registry.js';
import { ACTIVE_REQUEST_SCORER_TYPE, activeRequestScorerFactory } from './active-request-scorer.js';
import { APPROX_PREFIX_CACHE_PRODUCER_TYPE, approxPrefixCacheProducerFactory } from './approx-prefix-cache-producer.js';
import { CORE_METRICS_EXTRACTOR_TYPE, ENDPOINT_NOTIFICATION_SOURCE_TYPE, INFLIGHT_LOAD_PRODUCER_TYPE, METRICS_DATA_SOURCE_TYPE, MODELS_DATA_EXTRACTOR_TYPE, MODELS_DATA_SOURCE_TYPE, dataLayerSourceFactory } from './data-layer-source.js';
import { CONTEXT_LENGTH_AWARE_TYPE, contextLengthAwareFactory } from './context-length-aware.js';
import { DESTINATION_ENDPOINT_SERVED_VERIFIER_TYPE, destinationEndpointServedVerifierFactory } from './destination-endpoint-served-verifier.js';
import { HEADER_PROFILE_HANDLER_TYPE, headerProfileHandlerFactory } from './header-profile-handler.js';
import { HEADER_BASED_TESTING_FILTER_TYPE, headerBasedTestingFilterFactory } from './header-based-testing-filter.js';
import { KV_CACHE_UTILIZATION_SCORER_TYPE, kvCacheUtilizationScorerFactory } from './kv-cache-utilization-scorer.js';
import { BY_LABEL_SELECTOR_TYPE, LABEL_SELECTOR_FILTER_TYPE, byLabelSelectorFactory, labelSelectorFilterFactory } from './label-selector-filter.js';
import { LOAD_AWARE_SCORER_TYPE, loadAwareScorerFactory } from './load-aware-scorer.js';
import { LORA_AFFINITY_SCORER_TYPE, loraAffinityScorerFactory } from './lora-affinity-scorer.js';
import { MAX_SCORE_PICKER_TYPE, maxScorePickerFactory } from './max-score-picker.js';
import { NO_HIT_LRU_SCORER_TYPE, noHitLruScorerFactory } from './no-hit-lru-scorer.js';
import { NOT_BUILT } from './not-built.js';
import { PRECISE_PREFIX_CACHE_PRODUCER_TYPE, precisePrefixCacheProducerFactory } from './precise-prefix-cache-producer.js';
import { PRECISE_PREFIX_CACHE_SCORER_TYPE, precisePrefixCacheScorerFactory } from './precise-prefix-cache-scorer.js';
import { PREFIX_CACHE_SCORER_TYPE, prefixCacheScorerFactory } from './prefix-cache-scorer.js';
import { PROBABILISTIC_ADMITTER_TYPE, probabilisticAdmitterFactory } from './probabilistic-admitter.js';
import { REQUEST_ATTRIBUTE_REPORTER_TYPE, requestAttributeReporterFactory } from './request-attribute-reporter.js';
import { QUEUE_SCORER_TYPE, queueScorerFactory } from './queue-scorer.js';
import { DECODE_FILTER_TYPE, ENCODE_FILTER_TYPE, PREFILL_FILTER_TYPE, roleFilterFactory } from './role-filters.js';
import { RANDOM_PICKER_TYPE, randomPickerFactory } from './random-picker.js';
import { RUNNING_REQUESTS_SIZE_SCORER_TYPE, runningRequestsSizeScorerFactory } from './running-requests-size-scorer.js';
import { ANTHROPIC_PARSER_TYPE, OPENAI_PARSER_TYPE, PASSTHROUGH_PARSER_TYPE, VLLMHTTP_PARSER_TYPE, requestParserFactory } from './request-parsers.js';
import { SERVED_MODEL_FILTER_TYPE, servedModelFilterFactory } from './served-model-filter.js';
import { SINGLE_PROFILE_HANDLER_TYPE, singleProfileHandlerFactory } from './single-profile-handler.js';
import { TOKEN_LOAD_SCORER_TYPE, tokenLoadScorerFactory } from './token-load-scorer.js';
import { LEGACY_TOKENIZER_TYPE, TOKEN_PRODUCER_TYPE, legacyTokenizerFactory, tokenProducerFactory } from './token-producer.js';
import { UTILIZATION_DETECTOR_TYPE, utilizationDetectorFactory } from './utilization-detector.js';
import { UTILIZATION_FILTER_TYPE, utilizationFilterFactory } from './utilization-filter.js';
import { WEIGHTED_RANDOM_PICKER_TYPE, weightedRandomPickerFactory } from './weighted-random-picker.js';
import { AGENT_IDENTITY_TYPE, agentIdentityFactory } from './session/agent-identity.js';
import { SESSION_AFFINITY_FILTER_TYPE, sessionAffinityFilterFactory } from './session/session-affinity-filter.js';
import { SESSION_AFFINITY_SCORER_TYPE, sessionAffinityScorerFactory } from './session/session-affinity-scorer.js';
import { SESSION_ID_PRODUCER_TYPE, sessionIdProducerFactory } from './session/session-id-producer.js';
import { ALWAYS_DISAGG_MULTIMODAL_DECIDER_TYPE, ALWAYS_DISAGG_PD_DECIDER_TYPE, alwaysDisaggMultimodalDeciderFactory, alwaysDisaggPdDeciderFactory } from './disagg/always-disagg-deciders.js';
import { DISAGG_HEADERS_HANDLER_TYPE, PREFILL_HEADER_HANDLER_TYPE, deprecatedHeaderHandlerFactory, disaggProfileHandlerFactory, pdProfileHandlerFactory } from './disagg/disagg-handler-factories.js';
import { DISAGG_PROFILE_HANDLER_TYPE, PD_PROFILE_HANDLER_TYPE } from './disagg/disagg-profile-handler.js';
import { PREFIX_BASED_PD_DECIDER_TYPE, prefixBasedPdDeciderFactory } from './disagg/prefix-based-pd-decider.js';
import { CONCURRENCY_DETECTOR_TYPE, concurrencyDetectorFactory } from '../../flowcontrol/concurrency-detector.js';
import { EDF_ORDERING_POLICY_TYPE, edfOrderingPolicyFactory } from '../../flowcontrol/edf-ordering-policy.js';
import { FCFS_ORDERING_POLICY_TYPE, fcfsOrderingPolicyFactory } from '../../flowcontrol/fcfs-ordering-policy.js';
import { GLOBAL_STRICT_FAIRNESS_POLICY_TYPE, globalStrictFairnessPolicyFactory } from '../../flowcontrol/global-strict-fairness-policy.js';
import { STATIC_USAGE_LIMIT_POLICY_TYPE, staticUsageLimitPolicyFactory } from '../../flowcontrol/static-usage-limit-policy.js';
import { ROUND_ROBIN_FAIRNESS_POLICY_TYPE, roundRobinFairnessPolicyFactory } from '../../flowcontrol/round-robin-fairness-policy.js';

/** Adds every built-in to `registry` (a new one by default) and returns it. */
export function registerBuiltins(registry: PluginRegistry = new PluginRegistry()): PluginRegistry {
  // llm-d's types that are not built here: a config naming one is told why, and what to do instead
  for (const g of NOT_BUILT) registry.notBuilt(g.types, g.why);
  return (
    registry
      // filters
      .register(SERVED_MODEL_FILTER_TYPE, servedModelFilterFactory)
      .register(LABEL_SELECTOR_FILTER_TYPE, labelSelectorFilterFactory)
      .register(BY_LABEL_SELECTOR_TYPE, byLabelSelectorFactory)
      // llm-d's role filters on llm-d.ai/role; its sample configs without P/D list decode-filter too
      .register(DECODE_FILTER_TYPE, roleFilterFactory(DECODE_FILTER_TYPE))
      .register(PREFILL_FILTER_TYPE, roleFilterFactory(PREFILL_FILTER_TYPE))
      .register(ENCODE_FILTER_TYPE, roleFilterFactory(ENCODE_FILTER_TYPE))
      .register(UTILIZATION_DETECTOR_TYPE, utilizationDetectorFactory)
      .register(CONCURRENCY_DETECTOR_TYPE, concurrencyDetectorFactory)
      // caps on load metrics that drop an endpoint outright (no fail-open unless fallbackOnEmpty)
      .register(UTILIZATION_FILTER_TYPE, utilizationFilterFactory)
      // admission: sheddable requests refused with a probability rising with the pool's load
      .register(PROBABILISTIC_ADMITTER_TYPE, probabilisticAdmitterFactory)
      // GIE's conformance EPP pins requests with it; does nothing unless an EndpointPickerConfig names it
      .register(HEADER_BASED_TESTING_FILTER_TYPE, headerBasedTestingFilterFactory)
      // session affinity as a hard pin (the scorer below is the soft preference)
      .register(SESSION_AFFINITY_FILTER_TYPE, sessionAffinityFilterFactory)
      // scorers
      .register(QUEUE_SCORER_TYPE, queueScorerFactory)
      .register(RUNNING_REQUESTS_SIZE_SCORER_TYPE, runningRequestsSizeScorerFactory)
      .register(KV_CACHE_UTILIZATION_SCORER_TYPE, kvCacheUtilizationScorerFactory)
      .register(PREFIX_CACHE_SCORER_TYPE, prefixCacheScorerFactory)
      // current llm-d's home of the approximate index's parameters: handed to the prefix-cache-scorers that read it
      .register(APPROX_PREFIX_CACHE_PRODUCER_TYPE, approxPrefixCacheProducerFactory)
      .register(LORA_AFFINITY_SCORER_TYPE, loraAffinityScorerFactory)
      // a scorer, and with enableFiltering a filter, by the pods' context-length-range labels
      .register(CONTEXT_LENGTH_AWARE_TYPE, contextLengthAwareFactory)
      .register(LOAD_AWARE_SCORER_TYPE, loadAwareScorerFactory)
      .register(ACTIVE_REQUEST_SCORER_TYPE, activeRequestScorerFactory)
      // estimated tokens in flight, counted by the scorer's own pick hooks
      .register(TOKEN_LOAD_SCORER_TYPE, tokenLoadScorerFactory)
      .register(SESSION_AFFINITY_SCORER_TYPE, sessionAffinityScorerFactory)
      .register(NO_HIT_LRU_SCORER_TYPE, noHitLruScorerFactory)
      // llm-d's older all-in-one precise scorer: a precise-prefix-cache-producer and a prefix-cache-scorer in one
      .register(PRECISE_PREFIX_CACHE_SCORER_TYPE, precisePrefixCacheScorerFactory)
      // pickers
      .register(MAX_SCORE_PICKER_TYPE, maxScorePickerFactory)
      .register(RANDOM_PICKER_TYPE, randomPickerFactory)
      .register(WEIGHTED_RANDOM_PICKER_TYPE, weightedRandomPickerFactory)
      // profile handlers
      .register(SINGLE_PROFILE_HANDLER_TYPE, singleProfileHandlerFactory)
      // one profile per call, named by a request header (a coordinator driving the stages itself)
      .register(HEADER_PROFILE_HANDLER_TYPE, headerProfileHandlerFactory)
      // P/D (and E/P/D) disaggregation: decode always, prefill and encode on their own pods when the deciders say so
      .register(DISAGG_PROFILE_HANDLER_TYPE, disaggProfileHandlerFactory)
      .register(PD_PROFILE_HANDLER_TYPE, pdProfileHandlerFactory)
      .register(PREFIX_BASED_PD_DECIDER_TYPE, prefixBasedPdDeciderFactory)
      .register(ALWAYS_DISAGG_PD_DECIDER_TYPE, alwaysDisaggPdDeciderFactory)
      .register(ALWAYS_DISAGG_MULTIMODAL_DECIDER_TYPE, alwaysDisaggMultimodalDeciderFactory)
      // llm-d's deprecated header handlers: the profile handler writes the headers, so these only load
      .register(DISAGG_HEADERS_HANDLER_TYPE, deprecatedHeaderHandlerFactory(DISAGG_HEADERS_HANDLER_TYPE))
      .register(PREFILL_HEADER_HANDLER_TYPE, deprecatedHeaderHandlerFactory(PREFILL_HEADER_HANDLER_TYPE))
      // data producers: run before each cycle; precise prefix scoring from the pods' KV events (issue #14)
      .register(TOKEN_PRODUCER_TYPE, tokenProducerFactory)
      .register(LEGACY_TOKENIZER_TYPE, legacyTokenizerFactory)
      .register(PRECISE_PREFIX_CACHE_PRODUCER_TYPE, precisePrefixCacheProducerFactory)
      // request attributes a session_id session-affinity source reads: a header or cookie, a coding agent's session
      .register(SESSION_ID_PRODUCER_TYPE, sessionIdProducerFactory)
      .register(AGENT_IDENTITY_TYPE, agentIdentityFactory)
      // llm-d's data-layer sources: built into the gateway, accepted so llm-d's configs load unchanged
      .register(ENDPOINT_NOTIFICATION_SOURCE_TYPE, dataLayerSourceFactory(ENDPOINT_NOTIFICATION_SOURCE_TYPE))
      .register(METRICS_DATA_SOURCE_TYPE, dataLayerSourceFactory(METRICS_DATA_SOURCE_TYPE))
      .register(CORE_METRICS_EXTRACTOR_TYPE, dataLayerSourceFactory(CORE_METRICS_EXTRACTOR_TYPE))
      .register(INFLIGHT_LOAD_PRODUCER_TYPE, dataLayerSourceFactory(INFLIGHT_LOAD_PRODUCER_TYPE))
      .register(MODELS_DATA_SOURCE_TYPE, dataLayerSourceFactory(MODELS_DATA_SOURCE_TYPE))
      .register(MODELS_DATA_EXTRACTOR_TYPE, dataLayerSourceFactory(MODELS_DATA_EXTRACTOR_TYPE))
      // llm-d's default request parsers (requestHandler.parsers): the gateway parses bodies itself, accepted likewise
      .register(OPENAI_PARSER_TYPE, requestParserFactory(OPENAI_PARSER_TYPE))
      .register(ANTHROPIC_PARSER_TYPE, requestParserFactory(ANTHROPIC_PARSER_TYPE))
      .register(VLLMHTTP_PARSER_TYPE, requestParserFactory(VLLMHTTP_PARSER_TYPE))
      .register(PASSTHROUGH_PARSER_TYPE, requestParserFactory(PASSTHROUGH_PARSER_TYPE))
      // response hooks: GIE's conformance EPP reports the served endpoint with it; off unless a config names it
      .register(DESTINATION_ENDPOINT_SERVED_VERIFIER_TYPE, destinationEndpointServedVerifierFactory)
      // a CEL expression over a response's usage, to the data plane as ext_proc dynamic metadata
      .register(REQUEST_ATTRIBUTE_REPORTER_TYPE, requestAttributeReporterFactory)
      // flow control (featureGates: [flowControl]): fairness between flows of a band, order within a flow
      .register(GLOBAL_STRICT_FAIRNESS_POLICY_TYPE, globalStrictFairnessPolicyFactory)
      .register(ROUND_ROBIN_FAIRNESS_POLICY_TYPE, roundRobinFairnessPolicyFactory)
      .register(FCFS_ORDERING_POLICY_TYPE, fcfsOrderingPolicyFactory)
      .register(EDF_ORDERING_POLICY_TYPE, edfOrderingPolicyFactory)
      // the saturation flow control dispatches up to (llm-d injects it with threshold 1.0 when none is named)
      .register(STATIC_USAGE_LIMIT_POLICY_TYPE, staticUsageLimitPolicyFactory)
  );
}
