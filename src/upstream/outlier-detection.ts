/** Outlier detection's settings, by Envoy's names (`outlier_detection` of a cluster), with their flags and annotations. */
import type { SettingSpec } from './setting.js';

/**
 * How passive health checking ejects an endpoint, per pool. Counts of 0 turn that detector off.
 * Ejection time = baseEjectionTime x the endpoint's ejection multiplier (one more per ejection, one less per
 * `interval` spent healthy since the last one), capped at maxEjectionTime.
 */
export interface OutlierDetection {
  /** Envoy `consecutive_5xx`: 5xx answers, timeouts, resets and connect failures in a row. */
  consecutive5xx: number;
  /** Envoy `consecutive_gateway_failure`: 502, 503, 504 answers, timeouts, resets and connect failures in a row. */
  consecutiveGatewayFailure: number;
  /** Envoy `interval`: how long an endpoint must stay healthy after an ejection for its multiplier to go down by one. */
  intervalMs: number;
  /** Envoy `base_ejection_time`. */
  baseEjectionTimeMs: number;
  /** Envoy `max_ejection_time`. */
  maxEjectionTimeMs: number;
  /** Envoy `max_ejection_percent`: at most this share of a pool's endpoints is ejected at once, but always one may be. */
  maxEjectionPercent: number;
}

export const DEFAULT_OUTLIER_DETECTION: Readonly<OutlierDetection> = {
  consecutive5xx: 5,
  // Envoy counts 5 but does not enforce this detector by default; here a gateway failure is mostly a timeout
  // that already cost a client the whole header timeout, so three in a row are enough.
  consecutiveGatewayFailure: 3,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionPercent: 10,
};

/** Each setting's flag (`--NAME`) and annotation (`infergate.io/NAME`). */
export const OUTLIER_SETTINGS: readonly SettingSpec<keyof OutlierDetection>[] = [
  { key: 'consecutive5xx', name: 'outlier-consecutive-5xx', kind: 'count', min: 0, help: 'eject an endpoint after this many 5xx answers, timeouts, resets or connect failures in a row (Envoy consecutive_5xx); 0 = off' },
  {
    key: 'consecutiveGatewayFailure',
    name: 'outlier-consecutive-gateway-failure',
    kind: 'count',
    min: 0,
    help: 'eject an endpoint after this many 502/503/504 answers, timeouts, resets or connect failures in a row (Envoy consecutive_gateway_failure); 0 = off',
  },
  { key: 'intervalMs', name: 'outlier-interval', kind: 'duration', min: 1, help: 'an endpoint healthy this long after an ejection has its next ejection time shortened by one base ejection time (Envoy interval)' },
  { key: 'baseEjectionTimeMs', name: 'outlier-base-ejection-time', kind: 'duration', min: 1, help: 'first ejection time; each ejection in a row adds as much again (Envoy base_ejection_time)' },
  { key: 'maxEjectionTimeMs', name: 'outlier-max-ejection-time', kind: 'duration', min: 1, help: 'longest ejection (Envoy max_ejection_time)' },
  { key: 'maxEjectionPercent', name: 'outlier-max-ejection-percent', kind: 'percent', min: 0, help: 'most of a pool ejected at once, in percent; one endpoint may always be (Envoy max_ejection_percent)' },
];
