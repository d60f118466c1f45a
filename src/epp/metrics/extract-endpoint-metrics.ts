/** Turns a parsed /metrics exposition into the scheduler's EndpointMetrics, through an engine's metric map. */
import type { EndpointMetrics } from '../datastore/endpoint-metrics.js';
import type { EngineMetricMap } from './engine-metrics.js';
import type { MetricSpec } from './metric-spec.js';
import type { Exposition, Sample } from './prometheus-parser.js';
import { formatMetricSpec, matchingSamples } from './metric-spec.js';

/** EndpointMetrics less `updatedAt`, which the scraper stamps. */
export type EngineReading = Omit<EndpointMetrics, 'updatedAt'>;

/** The samples of the first spec in `specs` that the exposition has; NaN and infinite values count as absent. */
function firstPresent(exp: Exposition, specs: readonly MetricSpec[]): readonly Sample[] | undefined {
  for (const spec of specs) {
    const found = matchingSamples(spec, exp.samples.get(spec.name)).filter((s) => Number.isFinite(s.value));
    if (found.length > 0) return found;
  }
  return undefined;
}

/**
 * A gauge that is there with no number in it (`NaN`, `+Inf`: an engine that has not computed it yet) is as
 * unusable as a missing one, but "has no" alone would contradict the list of what the pod reported.
 */
function notNumbers(exp: Exposition, specs: readonly MetricSpec[]): string {
  const values = specs.flatMap((spec) => matchingSamples(spec, exp.samples.get(spec.name)).map((s) => String(s.value)));
  return values.length === 0 ? '' : ` (reported, but as ${[...new Set(values)].join(', ')}, not a number the picker can use)`;
}

function int(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

function adapters(csv: string | undefined): string[] {
  return csv ? csv.split(',').map((a) => a.trim()).filter((a) => a !== '') : [];
}

/**
 * Reads one scrape. Several series per gauge happen (vLLM labels each data-parallel engine with `engine`,
 * and a series per `model_name`): queue sizes are summed, because each engine has its own queue and the
 * pod's backlog is all of them; KV usage takes the max, because the caches are separate pools and the
 * gateway cannot choose which engine gets the request, so the fullest one is what a new request may meet.
 * (llm-d instead reads a single series per spec, the one with the latest timestamp.)
 *
 * Throws when a configured queue or KV gauge is absent: reading it as 0 would make a pod that is not the
 * engine we think (or an exporter in front of it) look idle, and the picker would send it everything.
 */
export function extractEndpointMetrics(exp: Exposition, map: EngineMetricMap): EngineReading {
  const missing: string[] = [];
  const gauge = (specs: readonly MetricSpec[]): readonly Sample[] => {
    if (specs.length === 0) return [];
    const found = firstPresent(exp, specs);
    if (!found) missing.push(specs.map(formatMetricSpec).join(' or ') + notNumbers(exp, specs));
    return found ?? [];
  };
  const queued = gauge(map.queued);
  const running = gauge(map.running);
  const kv = gauge(map.kvUsage);
  if (missing.length > 0) {
    const seen = [...exp.samples.keys()];
    const hint = seen.length === 0 ? 'it reported no samples' : `it reported ${seen.length} metrics, e.g. ${seen.slice(0, 3).join(', ')}`;
    throw new Error(
      `/metrics has no ${missing.join(', ')} (engine ${map.engine}; ${hint}). ` +
        `If the pod runs another engine, label it llm-d.ai/engine-type=<engine>`,
    );
  }
  const count = (samples: readonly Sample[]): number => Math.max(0, Math.round(samples.reduce((sum, s) => sum + s.value, 0)));
  const maxKv = kv.reduce((max, s) => Math.max(max, s.value), 0);
  const reading: EngineReading = {
    waitingQueueSize: count(queued),
    runningQueueSize: count(running),
    // The invariant is a fraction in [0, 1]; an engine misreporting must not push scorers out of range.
    kvCacheUsagePercent: Math.min(1, Math.max(0, maxKv)),
    runningLoras: [],
    waitingLoras: [],
    maxLoras: 0,
  };
  Object.assign(reading, readLora(exp, map), readCacheConfig(exp, map));
  return reading;
}

/**
 * vLLM keeps one `lora_requests_info` series per label combination it has ever reported, valued with the
 * time it was set: the series with the largest value is the current state.
 */
function readLora(exp: Exposition, map: EngineMetricMap): Partial<EngineReading> {
  const series = firstPresent(exp, map.lora);
  if (!series) return {};
  let latest = series[0]!;
  for (const s of series) if (s.value > latest.value) latest = s;
  return {
    runningLoras: adapters(latest.labels.running_lora_adapters),
    waitingLoras: adapters(latest.labels.waiting_lora_adapters),
    maxLoras: int(latest.labels.max_lora) ?? 0,
  };
}

function readCacheConfig(exp: Exposition, map: EngineMetricMap): Partial<EngineReading> {
  const out: { blockSize?: number; numGpuBlocks?: number } = {};
  const info = firstPresent(exp, map.cacheInfo)?.[0];
  if (info) {
    const blockSize = int(info.labels[map.blockSizeLabel]);
    const numGpuBlocks = int(info.labels[map.numBlocksLabel]);
    if (blockSize) out.blockSize = blockSize;
    if (numGpuBlocks) out.numGpuBlocks = numGpuBlocks;
  }
  // Gauges valued with the number itself (SGLang) win over an info gauge, as they are what the engine counts now.
  const size = firstPresent(exp, map.cacheBlockSize)?.[0]?.value;
  const blocks = firstPresent(exp, map.cacheNumBlocks)?.[0]?.value;
  if (size !== undefined && Number.isInteger(size) && size > 0) out.blockSize = size;
  if (blocks !== undefined && Number.isInteger(blocks) && blocks > 0) out.numGpuBlocks = blocks;
  return out;
}
