/**
 * `concurrency-detector` (llm-d): saturation from the requests this gateway has in flight to each endpoint,
 * against `maxConcurrency` per endpoint. It reacts as soon as a request is dispatched, with no scrape lag, and
 * as a filter keeps the endpoints below their limit.
 */
import type { Endpoint } from '../epp/datastore/endpoint.js';
import type { Filter, SchedulingContext } from '../epp/framework/plugin.js';
import type { PluginFactory } from '../epp/framework/registry.js';

export const CONCURRENCY_DETECTOR_TYPE = 'concurrency-detector';
/** llm-d's default in-flight limit per endpoint. */
export const DEFAULT_MAX_CONCURRENCY = 100;

export class ConcurrencyDetector implements Filter {
  readonly type = CONCURRENCY_DETECTOR_TYPE;
  readonly name: string;
  readonly maxConcurrency: number;
  /** Burst allowance of the filter over `maxConcurrency`, as a fraction. */
  readonly headroom: number;

  constructor(name: string = CONCURRENCY_DETECTOR_TYPE, maxConcurrency = DEFAULT_MAX_CONCURRENCY, headroom = 0) {
    this.name = name;
    this.maxConcurrency = maxConcurrency;
    this.headroom = headroom;
  }

  /**
   * In flight / capacity over the pool. In flight is the endpoints' own counts (from the pick on), or
   * `dispatched` (what flow control let through, picked or not yet) when that is more. An empty pool is 1
   * (nothing can take a request). Never stale: the counts are the gateway's own.
   */
  saturation(endpoints: readonly Endpoint[], dispatched = 0): number {
    if (endpoints.length === 0) return 1;
    let inFlight = 0;
    for (const ep of endpoints) inFlight += ep.inFlight;
    return Math.max(inFlight, dispatched) / (this.maxConcurrency * endpoints.length);
  }

  filter(_ctx: SchedulingContext, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    const limit = this.maxConcurrency * (1 + this.headroom);
    let kept = 0;
    for (const ep of endpoints) if (ep.inFlight < limit) kept++;
    // As llm-d: when every endpoint is full the filter keeps them all; holding back is flow control's job.
    if (kept === endpoints.length || kept === 0) return endpoints;
    return endpoints.filter((ep) => ep.inFlight < limit);
  }
}

/**
 * Parameters, as llm-d's: `concurrencyMode` (`requests`; `tokens` and `hybrid` need token accounting infergate
 * does not keep yet), `maxConcurrency` (positive integer, 100), `headroom` (>= 0, 0).
 */
export const concurrencyDetectorFactory: PluginFactory = (name, _p, r) => {
  const mode = r.oneOf('concurrencyMode', 'requests', ['requests', 'tokens', 'hybrid']);
  if (mode !== 'requests') r.fail('concurrencyMode', `"${mode}" is not supported by infergate yet; use "requests"`);
  r.ignored('maxTokenConcurrency', 'only concurrencyMode "requests" is supported');
  return new ConcurrencyDetector(name, r.positiveInt('maxConcurrency', DEFAULT_MAX_CONCURRENCY), r.number('headroom', 0, { min: 0 }));
};
