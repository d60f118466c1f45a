/**
 * A pool's upstream policy, its timeouts and outlier detection: the `serve` flags, overridden per pool by
 * InferencePool annotations named like the flags (`infergate.io/stream-headers-timeout: 30s`).
 */
import type { ConfigIssue } from '../api/config-issue.js';
import type { InferencePool } from '../api/inference-pool.js';
import { DEFAULT_OUTLIER_DETECTION, OUTLIER_SETTINGS, type OutlierDetection } from './outlier-detection.js';
import { annotationOf, parseSetting, type SettingSpec } from './setting.js';
import { DEFAULT_UPSTREAM_TIMEOUTS, TIMEOUT_SETTINGS, type UpstreamTimeouts } from './timeouts.js';

export interface UpstreamPolicy {
  readonly timeouts: Readonly<UpstreamTimeouts>;
  readonly outlierDetection: Readonly<OutlierDetection>;
}

export const DEFAULT_UPSTREAM_POLICY: UpstreamPolicy = { timeouts: DEFAULT_UPSTREAM_TIMEOUTS, outlierDetection: DEFAULT_OUTLIER_DETECTION };

/** Every annotation a pool may carry to change its upstream policy. */
export const UPSTREAM_ANNOTATIONS: readonly string[] = [...TIMEOUT_SETTINGS, ...OUTLIER_SETTINGS].map(annotationOf);

export interface PoolPolicyResult {
  policy: UpstreamPolicy;
  /** Annotations whose values cannot be used, each naming the field; the policy then keeps the defaults for them. */
  issues: ConfigIssue[];
}

/**
 * `defaults` with the pool's annotations applied; never throws. A misspelt annotation is warned about with
 * every other unknown one (src/config/known-annotations.ts).
 */
export function poolUpstreamPolicy(pool: InferencePool, defaults: UpstreamPolicy): PoolPolicyResult {
  const issues: ConfigIssue[] = [];
  const annotations = pool.meta.annotations;
  const read = <T extends object>(specs: readonly SettingSpec<Extract<keyof T, string>>[], base: T): T => {
    let out = base;
    for (const spec of specs) {
      const name = annotationOf(spec);
      const text = annotations[name];
      if (text === undefined) continue;
      const r = parseSetting(spec, text);
      if ('error' in r) issues.push({ location: pool.source, field: `metadata.annotations.${name}`, message: r.error });
      else out = { ...out, [spec.key]: r.value };
    }
    return out;
  };
  const timeouts = read(TIMEOUT_SETTINGS, defaults.timeouts);
  const outlierDetection = read(OUTLIER_SETTINGS, defaults.outlierDetection);
  const same = timeouts === defaults.timeouts && outlierDetection === defaults.outlierDetection;
  return { policy: same ? defaults : { timeouts, outlierDetection }, issues };
}
