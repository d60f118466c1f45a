/**
 * Passive health checking as Envoy's outlier detection does it: consecutive gateway failures or 5xx from an
 * endpoint eject it for a time that grows with each ejection in a row, within a pool's max ejection percent.
 */
import type { Endpoint } from '../epp/datastore/endpoint.js';
import type { OutlierDetection } from './outlier-detection.js';
import type { Ejection, EjectionType } from './outlier-state.js';

/** What the detector reports when it ejects an endpoint: logs now, Prometheus counters later. */
export interface EjectionEvent {
  endpoint: Endpoint;
  pool: string;
  ejection: Ejection;
}

/** Counters since start, by Envoy's stat names (`ejections_enforced_*`, `ejections_overflow`). */
export interface OutlierStats {
  ejectionsEnforcedConsecutive5xx: number;
  ejectionsEnforcedConsecutiveGatewayFailure: number;
  /** Ejections skipped because the pool was at its max ejection percent. */
  ejectionsOverflow: number;
}

/** How an attempt ended, as the detector counts it. */
export type AttemptOutcome =
  /** An answer relayed to its end: both counters start over. */
  | { kind: 'success' }
  /** An answer's status: below 500 a success; 500 or more a failure, 502, 503 and 504 gateway failures too. */
  | { kind: 'status'; status: number }
  /** No usable answer: connect failure, reset, timeout (Envoy's locally originated failures count as both). */
  | { kind: 'local'; code: string };

/**
 * One per gateway; state lives on each Endpoint (`ep.outlier`), settings come per pool with every call, so
 * pools sharing an endpoint judge it by their own thresholds. Ejections end by the clock: nothing runs between
 * requests, and an ejected endpoint is back in the pick as soon as its time is up.
 */
export class OutlierDetector {
  readonly #onEject: ((e: EjectionEvent) => void) | undefined;
  readonly stats: OutlierStats = { ejectionsEnforcedConsecutive5xx: 0, ejectionsEnforcedConsecutiveGatewayFailure: 0, ejectionsOverflow: 0 };

  constructor(onEject?: (e: EjectionEvent) => void) {
    this.#onEject = onEject;
  }

  /** An attempt on `ep` succeeded (or answered below 500): its failure runs end. Needs no clock, unlike a failure. */
  succeeded(ep: Endpoint): void {
    const s = ep.outlier;
    s.consecutive5xx = 0;
    s.consecutiveGatewayFailures = 0;
  }

  /**
   * Counts one attempt on `ep`, an endpoint of `pool` (its key and endpoints, for the max ejection percent).
   * Returns the ejection it caused, if any.
   */
  record(ep: Endpoint, pool: { key: string; endpoints: readonly Endpoint[] }, settings: OutlierDetection, outcome: AttemptOutcome, now: number): Ejection | undefined {
    if (outcome.kind === 'success' || (outcome.kind === 'status' && outcome.status < 500)) {
      this.succeeded(ep);
      return undefined;
    }
    const s = ep.outlier;
    const gateway = outcome.kind === 'local' || outcome.status === 502 || outcome.status === 503 || outcome.status === 504;
    s.lastFailure = outcome.kind === 'local' ? outcome.code : `HTTP ${outcome.status}`;
    s.consecutive5xx++;
    // As Envoy: a 5xx that is not a gateway failure breaks the gateway-failure run.
    s.consecutiveGatewayFailures = gateway ? s.consecutiveGatewayFailures + 1 : 0;
    // An endpoint already ejected (picked anyway because its whole pool was) is not ejected again.
    if (s.isEjected(now)) return undefined;
    const g = settings.consecutiveGatewayFailure;
    const f = settings.consecutive5xx;
    let type: EjectionType | undefined;
    let run = 0;
    if (g > 0 && s.consecutiveGatewayFailures >= g) {
      type = 'consecutive_gateway_failure';
      run = s.consecutiveGatewayFailures;
    } else if (f > 0 && s.consecutive5xx >= f) {
      type = 'consecutive_5xx';
      run = s.consecutive5xx;
    }
    if (!type) return undefined;
    if (!mayEject(pool.endpoints, settings.maxEjectionPercent, now)) {
      this.stats.ejectionsOverflow++;
      return undefined;
    }
    const what = type === 'consecutive_5xx' ? (run === 1 ? '5xx answer or failure' : '5xx answers or failures') : run === 1 ? 'gateway failure' : 'gateway failures';
    return this.#eject(ep, pool.key, settings, type, `${run} ${what} in a row; last: ${s.lastFailure}`, now);
  }

  #eject(ep: Endpoint, pool: string, settings: OutlierDetection, type: EjectionType, detail: string, now: number): Ejection {
    const s = ep.outlier;
    // Envoy lowers the multiplier by one for each interval the endpoint stayed healthy since its last ejection ended.
    const healthyIntervals = s.ejectedUntil > 0 ? Math.floor((now - s.ejectedUntil) / settings.intervalMs) : 0;
    s.multiplier = Math.max(0, s.multiplier - healthyIntervals) + 1;
    const cap = Math.max(settings.maxEjectionTimeMs, settings.baseEjectionTimeMs);
    const ejection: Ejection = { type, detail, at: now, until: now + Math.min(settings.baseEjectionTimeMs * s.multiplier, cap), multiplier: s.multiplier };
    s.ejection = ejection;
    s.ejectedUntil = ejection.until;
    s.consecutive5xx = 0;
    s.consecutiveGatewayFailures = 0;
    if (type === 'consecutive_5xx') this.stats.ejectionsEnforcedConsecutive5xx++;
    else this.stats.ejectionsEnforcedConsecutiveGatewayFailure++;
    this.#onEject?.({ endpoint: ep, pool, ejection });
    return ejection;
  }
}

/** Envoy's rule: eject while the ejected share stays within the percent, and always allow one. */
function mayEject(endpoints: readonly Endpoint[], maxPercent: number, now: number): boolean {
  let ejected = 0;
  for (const e of endpoints) if (e.outlier.isEjected(now)) ejected++;
  return ejected === 0 || ((ejected + 1) * 100) / endpoints.length <= maxPercent;
}

/** Endpoints ejected at `now`, with why and for how much longer: what `/readyz` details show. */
export function ejectedEndpoints(endpoints: Iterable<Endpoint>, now: number): { endpoint: string; pod: string; type: EjectionType; reason: string; remaining_ms: number; multiplier: number }[] {
  const out = [];
  for (const ep of endpoints) {
    const e = ep.outlier.ejection;
    if (!e || !ep.outlier.isEjected(now)) continue;
    out.push({ endpoint: ep.address, pod: ep.podKey, type: e.type, reason: e.detail, remaining_ms: e.until - now, multiplier: e.multiplier });
  }
  return out;
}
