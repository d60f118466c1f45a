/**
 * Whether a pool has room for one more request: the configured saturation detector's reading, with the
 * staleness rule that keeps a scrape outage from halting dispatch (llm-d router #2100).
 */
import type { Endpoint } from '../epp/datastore/endpoint.js';
import type { UtilizationDetector } from '../epp/plugins/utilization-detector.js';
import type { ConcurrencyDetector } from './concurrency-detector.js';

export interface GateReading {
  /** The detector's level; 1 is the gating set point, above 1 is allowed. */
  level: number;
  /** Dispatch may go on. */
  open: boolean;
  /** Endpoints whose metrics were missing or stale. */
  stale: number;
}

export type SaturationSource = { kind: 'utilization'; detector: UtilizationDetector } | { kind: 'concurrency'; detector: ConcurrencyDetector };

/**
 * `ceiling` is the usage limit policy's threshold (static-usage-limit-policy, 1 by default): the gate closes at that
 * saturation. The staleness policy, explicit:
 * - `utilization-detector` with `stalenessPolicy: saturated` (default): a stale endpoint counts as full, so a
 *   mixed pool sends its load to the endpoints it can see;
 * - with `stalenessPolicy: ignore`: stale endpoints are left out of the mean;
 * - either way, when EVERY endpoint is stale the saturation is unknown and the gate stays open: a metrics
 *   outage must not stop traffic that the pods could serve (infergate departs from llm-d's fail-closed default
 *   here; `flow_control_stale_endpoints` shows it). The concurrency detector reads the gateway's own counts
 *   and is never stale.
 * An empty pool is closed (there is nowhere to send the request).
 */
export function readGate(source: SaturationSource, endpoints: readonly Endpoint[], now: number, pending: number, ceiling = 1): GateReading {
  if (endpoints.length === 0) return { level: 1, open: false, stale: 0 };
  if (source.kind === 'concurrency') {
    const level = source.detector.saturation(endpoints, pending);
    return { level, open: level < ceiling, stale: 0 };
  }
  const sat = source.detector.saturation(endpoints, now);
  if (sat.stale === endpoints.length) return { level: sat.level, open: true, stale: sat.stale };
  return { level: sat.level, open: !sat.saturated && sat.level < ceiling, stale: sat.stale };
}
