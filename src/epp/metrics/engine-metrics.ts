/** Which Prometheus metrics each model-server engine reports the scheduler's inputs under (vLLM, SGLang, or configured). */
import type { Endpoint } from '../datastore/endpoint.js';
import type { MetricSpec } from './metric-spec.js';
import { parseMetricSpec } from './metric-spec.js';

/** A spec string, or several tried in order: the first one the endpoint reports wins (a rename's fallback). */
export type SpecList = string | readonly string[];

/**
 * One engine's metric names, as an entry of llm-d's `core-metrics-extractor` `engineConfigs` (same field
 * names, so that YAML loads unchanged). An empty or missing spec disables that field.
 * Our one extension: a field may list fallbacks, e.g. vLLM's KV usage was renamed in v0.10.
 */
export interface EngineMetricsConfig {
  /** The engine type, matched against the pod label `llm-d.ai/engine-type`. */
  name: string;
  queuedRequestsSpec?: SpecList;
  runningRequestsSpec?: SpecList;
  /** A fraction in [0, 1]. */
  kvUsageSpec?: SpecList;
  /** vLLM-style info gauge: labels `running_lora_adapters`, `waiting_lora_adapters`, `max_lora`. */
  loraSpec?: SpecList;
  /** Info gauge whose labels carry the block size and block count. */
  cacheInfoSpec?: SpecList;
  /** Defaults to `block_size`. */
  cacheBlockSizeLabelName?: string;
  /** Defaults to `num_gpu_blocks`. */
  cacheNumBlocksLabelName?: string;
  /** Block size as a gauge's value, for engines without an info gauge (SGLang's page size). */
  cacheBlockSizeSpec?: SpecList;
  cacheNumBlocksSpec?: SpecList;
}

/** A config with its specs parsed, ready to read an exposition. */
export interface EngineMetricMap {
  readonly engine: string;
  readonly queued: readonly MetricSpec[];
  readonly running: readonly MetricSpec[];
  readonly kvUsage: readonly MetricSpec[];
  readonly lora: readonly MetricSpec[];
  readonly cacheInfo: readonly MetricSpec[];
  readonly blockSizeLabel: string;
  readonly numBlocksLabel: string;
  readonly cacheBlockSize: readonly MetricSpec[];
  readonly cacheNumBlocks: readonly MetricSpec[];
  /** Every sample name the map reads: the parser's allow-list, so the rest of /metrics is skipped unread. */
  readonly sampleNames: ReadonlySet<string>;
}

/**
 * vLLM, as llm-d's built-in `vllm` engine config and GIE's flag defaults (`--total-queued-requests-metric`
 * etc.), plus the pre-v0.10 name of the KV gauge as a fallback so older pods are not read as missing.
 */
export const VLLM_METRICS: EngineMetricsConfig = {
  name: 'vllm',
  queuedRequestsSpec: 'vllm:num_requests_waiting',
  runningRequestsSpec: 'vllm:num_requests_running',
  kvUsageSpec: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
  loraSpec: 'vllm:lora_requests_info',
  cacheInfoSpec: 'vllm:cache_config_info',
};

/** SGLang, as llm-d's built-in `sglang` engine config: no LoRA info gauge, page size and count as gauges. */
export const SGLANG_METRICS: EngineMetricsConfig = {
  name: 'sglang',
  queuedRequestsSpec: 'sglang:num_queue_reqs',
  runningRequestsSpec: 'sglang:num_running_reqs',
  kvUsageSpec: 'sglang:token_usage',
  cacheBlockSizeSpec: 'sglang:page_size',
  cacheNumBlocksSpec: 'sglang:num_pages',
};

export const BUILTIN_ENGINE_METRICS: readonly EngineMetricsConfig[] = [VLLM_METRICS, SGLANG_METRICS];

/** llm-d's pod label naming the engine; GIE's older key is read when it is absent. */
export const ENGINE_TYPE_LABEL = 'llm-d.ai/engine-type';
export const LEGACY_ENGINE_TYPE_LABEL = 'inference.networking.k8s.io/engine-type';
export const DEFAULT_ENGINE = 'vllm';

function specs(list: SpecList | undefined, field: string, engine: string): MetricSpec[] {
  const items = list === undefined ? [] : typeof list === 'string' ? [list] : list;
  return items
    .filter((s) => s.trim() !== '')
    .map((s) => {
      try {
        return parseMetricSpec(s);
      } catch (e) {
        throw new Error(`engine ${engine}, ${field}: ${(e as Error).message}`);
      }
    });
}

/** Parses a config's specs; throws naming the engine and field of a bad one. */
export function compileEngineMetrics(config: EngineMetricsConfig): EngineMetricMap {
  const e = config.name;
  if (e.trim() === '') throw new Error('an engine metrics config needs a name');
  const fields = {
    queued: specs(config.queuedRequestsSpec, 'queuedRequestsSpec', e),
    running: specs(config.runningRequestsSpec, 'runningRequestsSpec', e),
    kvUsage: specs(config.kvUsageSpec, 'kvUsageSpec', e),
    lora: specs(config.loraSpec, 'loraSpec', e),
    cacheInfo: specs(config.cacheInfoSpec, 'cacheInfoSpec', e),
    cacheBlockSize: specs(config.cacheBlockSizeSpec, 'cacheBlockSizeSpec', e),
    cacheNumBlocks: specs(config.cacheNumBlocksSpec, 'cacheNumBlocksSpec', e),
  };
  const sampleNames = new Set(Object.values(fields).flatMap((list) => list.map((s) => s.name)));
  return {
    engine: e,
    ...fields,
    blockSizeLabel: config.cacheBlockSizeLabelName || 'block_size',
    numBlocksLabel: config.cacheNumBlocksLabelName || 'num_gpu_blocks',
    sampleNames,
  };
}

/** The built-ins, each replaced by a configured engine of the same name (as llm-d does), plus the others configured. */
export function engineMetricMaps(configs: readonly EngineMetricsConfig[] = []): ReadonlyMap<string, EngineMetricMap> {
  const byName = new Map<string, EngineMetricsConfig>(BUILTIN_ENGINE_METRICS.map((c) => [c.name, c]));
  for (const c of configs) byName.set(c.name, c);
  return new Map([...byName].map(([name, c]) => [name, compileEngineMetrics(c)]));
}

/** The engine a pod runs, from its labels; `defaultEngine` when unlabelled. */
export function engineTypeOf(ep: Endpoint, defaultEngine = DEFAULT_ENGINE): string {
  const labels = ep.pod.meta.labels;
  return labels[ENGINE_TYPE_LABEL] || labels[LEGACY_ENGINE_TYPE_LABEL] || defaultEngine;
}
