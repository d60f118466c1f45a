/** When an endpoint's scraped metrics are too old to pick by. */
import type { Endpoint } from '../datastore/endpoint.js';

/**
 * llm-d's (and GIE's) `--metrics-staleness-threshold` default: 2 s, i.e. 40 missed scrapes at the default
 * 50 ms interval. (The saturation detector uses its own, tighter 200 ms.)
 */
export const DEFAULT_METRICS_STALENESS_MS = 2000;

/** True when the endpoint has never been scraped successfully, or its last success is older than `staleMs`. */
export function isStale(ep: Endpoint, now: number = Date.now(), staleMs: number = DEFAULT_METRICS_STALENESS_MS): boolean {
  return ep.metrics === undefined || now - ep.metrics.updatedAt > staleMs;
}
