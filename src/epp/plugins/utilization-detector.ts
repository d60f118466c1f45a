/**
 * `utilization-detector` (llm-d): the saturation rule, as a filter that drops overloaded endpoints and as the
 * pool-level signal (`poolSaturation`) an admission controller sheds sheddable requests by.
 */
import type { Endpoint } from '../datastore/endpoint.js';
import type { Filter, SchedulingContext } from '../framework/plugin.js';
import type { ParamReader, PluginFactory } from '../framework/registry.js';

export const UTILIZATION_DETECTOR_TYPE = 'utilization-detector';

export interface SaturationThresholds {
  /** Waiting requests at which an endpoint counts as full (default 5). */
  queueDepthThreshold: number;
  /** KV-cache use, 0..1, at which an endpoint counts as full (default 0.8). */
  kvCacheUtilThreshold: number;
  /** Metrics older than this count as saturated (default 200 ms). */
  metricsStalenessThresholdMs: number;
  /** Burst allowance of the filter over the thresholds, as a fraction (default 0: none). */
  headroom: number;
  /**
   * llm-d's `stalenessPolicy` (PR #2492): `saturated` (default) counts an endpoint with missing or stale
   * metrics as full; `ignore` leaves it out of the pool's mean. Either way a pool whose every endpoint is
   * stale is not gated by flow control (src/flowcontrol/saturation-gate.ts).
   */
  stalenessPolicy: StalenessPolicy;
}

export const STALENESS_POLICIES = ['saturated', 'ignore'] as const;
export type StalenessPolicy = (typeof STALENESS_POLICIES)[number];

export const DEFAULT_SATURATION_THRESHOLDS: Readonly<SaturationThresholds> = {
  queueDepthThreshold: 5,
  kvCacheUtilThreshold: 0.8,
  metricsStalenessThresholdMs: 200,
  headroom: 0,
  stalenessPolicy: 'saturated',
};

export interface PoolSaturation {
  /** Mean endpoint load; 1 means every endpoint is at its thresholds. */
  level: number;
  /** level >= 1: shed requests of negative priority (429). */
  saturated: boolean;
  /** Endpoints counted as saturated because their metrics are missing or stale. */
  stale: number;
}

/**
 * Endpoint load = max(waiting / queueDepthThreshold, kv / kvCacheUtilThreshold), waiting being
 * `Endpoint.waitingQueue()` (unanswered requests the pod does not report included); missing or stale metrics
 * count 1. The pool is saturated when the mean load reaches 1; an empty pool is saturated (fail closed).
 */
export function poolSaturation(
  endpoints: readonly Endpoint[],
  now: number,
  t: Pick<SaturationThresholds, 'queueDepthThreshold' | 'kvCacheUtilThreshold' | 'metricsStalenessThresholdMs'> & { stalenessPolicy?: StalenessPolicy } = DEFAULT_SATURATION_THRESHOLDS,
): PoolSaturation {
  if (endpoints.length === 0) return { level: 1, saturated: true, stale: 0 };
  let sum = 0;
  let stale = 0;
  const ignoreStale = t.stalenessPolicy === 'ignore';
  for (const ep of endpoints) {
    const m = ep.metrics;
    if (!m || now - m.updatedAt > t.metricsStalenessThresholdMs) {
      if (!ignoreStale) sum += 1;
      stale++;
      continue;
    }
    sum += Math.max(ep.waitingQueue() / t.queueDepthThreshold, m.kvCacheUsagePercent / t.kvCacheUtilThreshold);
  }
  const counted = ignoreStale ? endpoints.length - stale : endpoints.length;
  // `ignore` with every endpoint stale: nothing observable, so 0 (llm-d's reading).
  const level = counted === 0 ? 0 : sum / counted;
  return { level, saturated: level >= 1, stale };
}

/**
 * Keeps endpoints with fresh metrics below the relaxed limits threshold x (1 + headroom); when that keeps
 * nothing it returns every candidate (llm-d fails open here: pool-level shedding is the admission's job).
 */
export class UtilizationDetector implements Filter {
  readonly type = UTILIZATION_DETECTOR_TYPE;
  readonly name: string;
  readonly thresholds: Readonly<SaturationThresholds>;
  /** The thresholds relaxed by the headroom. */
  readonly #queueLimit: number;
  readonly #kvLimit: number;

  constructor(name: string = UTILIZATION_DETECTOR_TYPE, thresholds: Partial<SaturationThresholds> = {}) {
    this.name = name;
    this.thresholds = { ...DEFAULT_SATURATION_THRESHOLDS, ...thresholds };
    const t = this.thresholds;
    this.#queueLimit = t.queueDepthThreshold * (1 + t.headroom);
    this.#kvLimit = t.kvCacheUtilThreshold * (1 + t.headroom);
  }

  filter(ctx: SchedulingContext, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    let kept = 0;
    for (const ep of endpoints) if (this.#fits(ep, ctx.now)) kept++;
    if (kept === endpoints.length || kept === 0) return endpoints;
    return endpoints.filter((ep) => this.#fits(ep, ctx.now));
  }

  #fits(ep: Endpoint, now: number): boolean {
    const m = ep.metrics;
    return m !== undefined && now - m.updatedAt <= this.thresholds.metricsStalenessThresholdMs && ep.waitingQueue() < this.#queueLimit && m.kvCacheUsagePercent < this.#kvLimit;
  }

  saturation(endpoints: readonly Endpoint[], now: number): PoolSaturation {
    return poolSaturation(endpoints, now, this.thresholds);
  }
}

/**
 * Parameters, as llm-d's: `queueDepthThreshold` (positive integer, 5), `kvCacheUtilThreshold` (0 < x <= 1, 0.8),
 * `metricsStalenessThreshold` (duration, `200ms`), `headroom` (>= 0, 0), `stalenessPolicy` (`saturated` | `ignore`).
 */
export function readSaturationThresholds(r: ParamReader): SaturationThresholds {
  const d = DEFAULT_SATURATION_THRESHOLDS;
  const metricsStalenessThresholdMs = r.durationMs('metricsStalenessThreshold', d.metricsStalenessThresholdMs);
  if (metricsStalenessThresholdMs <= 0) r.fail('metricsStalenessThreshold', 'must be above 0');
  return {
    queueDepthThreshold: r.positiveInt('queueDepthThreshold', d.queueDepthThreshold),
    kvCacheUtilThreshold: r.number('kvCacheUtilThreshold', d.kvCacheUtilThreshold, { above: 0, max: 1 }),
    metricsStalenessThresholdMs,
    headroom: r.number('headroom', d.headroom, { min: 0 }),
    stalenessPolicy: r.oneOf('stalenessPolicy', d.stalenessPolicy, STALENESS_POLICIES),
  };
}

export const utilizationDetectorFactory: PluginFactory = (name, _p, r) => {
  r.ignored('inFlightLoadProducerName', 'no in-flight load producer plugins here');
  return new UtilizationDetector(name, readSaturationThresholds(r));
};
