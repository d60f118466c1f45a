/** Every pool's upstream policy, rebuilt with each configuration snapshot and swapped in with it. */
import { ConfigError, formatIssue, type ConfigIssue } from '../api/config-issue.js';
import type { ConfigSnapshot } from '../config/snapshot.js';
import { poolUpstreamPolicy, type UpstreamPolicy } from './upstream-policy.js';

export interface PreparedPolicies {
  warnings: string[];
  commit(): void;
}

export class UpstreamPolicies {
  readonly defaults: UpstreamPolicy;
  #byPool = new Map<string, UpstreamPolicy>();

  constructor(defaults: UpstreamPolicy) {
    this.defaults = defaults;
  }

  /**
   * Reads every pool's annotations; throws ConfigError naming each bad one, so a file edit with a bad value is
   * rejected whole. With `isolate` (live sources) a bad value is reported as a warning and the pool keeps the
   * flag's value for that setting instead: one pool's typo must not stop every other change.
   */
  prepare(snapshot: ConfigSnapshot, isolate = false): PreparedPolicies {
    const next = new Map<string, UpstreamPolicy>();
    const issues: ConfigIssue[] = [];
    const warnings: string[] = [];
    for (const [key, pool] of snapshot.pools) {
      const r = poolUpstreamPolicy(pool, this.defaults);
      if (isolate) warnings.push(...r.issues.map((i) => `${formatIssue(i)}; the pool uses the flag's value until this is fixed`));
      else issues.push(...r.issues);
      if (r.policy !== this.defaults) next.set(key, r.policy);
    }
    if (issues.length > 0) throw new ConfigError(issues);
    return { warnings, commit: () => (this.#byPool = next) };
  }

  /** The policy of pool `key` (namespace/name); the flags' for a pool without annotations. */
  forPool(key: string): UpstreamPolicy {
    return this.#byPool.get(key) ?? this.defaults;
  }
}
