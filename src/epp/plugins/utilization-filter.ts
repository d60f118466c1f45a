/** `utilization-filter` (llm-d): drops the endpoints over any of a list of caps on load metrics (`conditions`). */
import type { Endpoint } from '../datastore/endpoint.js';
import type { Filter, SchedulingContext } from '../framework/plugin.js';
import type { ParamReader, PluginFactory } from '../framework/registry.js';
import { describeValue } from '../framework/param-reader.js';

export const UTILIZATION_FILTER_TYPE = 'utilization-filter';

/** The metrics a condition may cap, by llm-d's names. */
export const UTILIZATION_METRICS = ['active-requests', 'running-requests', 'waiting-queue', 'kv-cache-utilization'] as const;
export type UtilizationMetric = (typeof UTILIZATION_METRICS)[number];

/** One cap: an endpoint passes while its `metric` is at most `maxValue`. */
export interface UtilizationCondition {
  readonly metric: UtilizationMetric;
  readonly maxValue: number;
}

/**
 * The value `condition` caps on `ep`. `active-requests` is the gateway's own count in flight (llm-d reads the same
 * count from its inflight-load-producer); `waiting-queue` is `Endpoint.waitingQueue()`, the scraped queue plus the
 * requests this gateway sent that the pod does not report, as every other infergate plugin reads it. An endpoint never
 * scraped reads 0 for the scraped metrics, as in llm-d: the filter keeps it.
 */
export function metricValue(ep: Endpoint, metric: UtilizationMetric): number {
  if (metric === 'active-requests') return ep.inFlight;
  const m = ep.metrics;
  if (!m) return 0;
  switch (metric) {
    case 'running-requests':
      return m.runningQueueSize;
    case 'waiting-queue':
      return ep.waitingQueue();
    case 'kv-cache-utilization':
      return m.kvCacheUsagePercent;
  }
}

/**
 * Keeps the endpoints that satisfy every condition, in input order. When that keeps nothing it returns nothing
 * (the request gets 503 `no_healthy_endpoint` naming this filter), or every candidate with `fallbackOnEmpty`.
 */
export class UtilizationFilter implements Filter {
  readonly type = UTILIZATION_FILTER_TYPE;
  readonly name: string;
  readonly conditions: readonly UtilizationCondition[];
  readonly fallbackOnEmpty: boolean;

  constructor(name: string, conditions: readonly UtilizationCondition[], fallbackOnEmpty = false) {
    this.name = name;
    this.conditions = conditions;
    this.fallbackOnEmpty = fallbackOnEmpty;
  }

  filter(_ctx: SchedulingContext, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    let kept = 0;
    for (const ep of endpoints) if (this.#fits(ep)) kept++;
    if (kept === endpoints.length) return endpoints;
    if (kept === 0) return this.fallbackOnEmpty ? endpoints : [];
    return endpoints.filter((ep) => this.#fits(ep));
  }

  whyEmpty(): string {
    const caps = this.conditions.map((c) => `${c.metric} <= ${c.maxValue}`).join(', ');
    return `no candidate satisfies every condition (${caps}); set fallbackOnEmpty: true to route to one anyway`;
  }

  #fits(ep: Endpoint): boolean {
    for (const c of this.conditions) if (metricValue(ep, c.metric) > c.maxValue) return false;
    return true;
  }
}

/** `conditions[i]`: a mapping `{metric, maxValue}`, nothing else; `maxValue` non-negative, at most 1 for the KV cache. */
function readCondition(r: ParamReader, raw: unknown, path: string): UtilizationCondition {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) r.fail(path, `must be a mapping {metric, maxValue}, got ${describeValue(raw)}`);
  const { metric, maxValue, ...rest } = raw as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) r.fail(`${path}.${extra}`, 'unknown field; known fields: maxValue, metric');
  if (!UTILIZATION_METRICS.includes(metric as UtilizationMetric)) r.fail(`${path}.metric`, `must be one of ${UTILIZATION_METRICS.join(', ')}, got ${describeValue(metric)}`);
  if (maxValue === undefined || maxValue === null) r.fail(`${path}.maxValue`, `is required: the largest ${String(metric)} an endpoint may have and be kept`);
  if (typeof maxValue !== 'number' || !Number.isFinite(maxValue)) r.fail(`${path}.maxValue`, `must be a number, got ${describeValue(maxValue)}`);
  if (maxValue < 0) r.fail(`${path}.maxValue`, `must be at least 0, got ${maxValue}`);
  if (metric === 'kv-cache-utilization' && maxValue > 1) r.fail(`${path}.maxValue`, `is a fraction of the KV cache for kv-cache-utilization and must be at most 1, got ${maxValue}`);
  return { metric: metric as UtilizationMetric, maxValue };
}

/**
 * Parameters, as llm-d's: `conditions` (required, at least one `{metric, maxValue}`), `fallbackOnEmpty` (default
 * false). `inFlightLoadProducerName` is accepted and ignored: active-requests is the gateway's own count.
 */
export const utilizationFilterFactory: PluginFactory = (name, _p, r) => {
  const conditions = r.list('conditions', (raw, path) => readCondition(r, raw, path));
  if (conditions.length === 0) {
    r.fail('conditions', 'needs at least one {metric, maxValue}; metric is one of ' + UTILIZATION_METRICS.join(', '));
  }
  r.ignored('inFlightLoadProducerName', "active-requests is the gateway's own in-flight count; there are no in-flight load producer plugins here");
  return new UtilizationFilter(name, conditions, r.boolean('fallbackOnEmpty', false));
};
