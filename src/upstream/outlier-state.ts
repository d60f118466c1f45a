/** What outlier detection knows of one endpoint: its failures in a row and its ejection, if any. */

/** Envoy's names for the two detectors that eject on consecutive failures. */
export type EjectionType = 'consecutive_5xx' | 'consecutive_gateway_failure';

/** One ejection: why, and for how long. Kept after it ends, for `/readyz` and explain to say what happened last. */
export interface Ejection {
  readonly type: EjectionType;
  /** The failures that led to it, in words (`3 in a row; last: UND_ERR_HEADERS_TIMEOUT`). */
  readonly detail: string;
  /** When it started and ends (ms since epoch). */
  readonly at: number;
  readonly until: number;
  /** The ejection multiplier it was computed with (1 for a first ejection). */
  readonly multiplier: number;
}

/**
 * Mutable, one per Endpoint, written by the OutlierDetector and read by eligibility on every pick (a field
 * compare, no allocation). Invariant: `ejectedUntil` is 0 or the `until` of `ejection`.
 */
export class OutlierState {
  consecutive5xx = 0;
  consecutiveGatewayFailures = 0;
  /** Envoy's ejection time multiplier: +1 per ejection, -1 per `interval` spent healthy after one. */
  multiplier = 0;
  /** Ejected until this time (ms since epoch); 0 when never ejected. */
  ejectedUntil = 0;
  ejection: Ejection | undefined;
  /** The last failure seen, in words (an error code or `HTTP 503`). */
  lastFailure: string | undefined;

  isEjected(now: number): boolean {
    return this.ejectedUntil > now;
  }
}
