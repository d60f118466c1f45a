/**
 * `static-usage-limit-policy` (llm-d's default usage limit policy, which it injects when none is named): the pool's
 * saturation up to which flow control dispatches, the same for every priority. 1.0, its default, is no ceiling
 * below saturation; 0.8 keeps a fifth of the pool's capacity as headroom.
 */
import type { Plugin } from '../epp/framework/plugin.js';
import type { PluginFactory } from '../epp/framework/registry.js';

export const STATIC_USAGE_LIMIT_POLICY_TYPE = 'static-usage-limit-policy';

export class StaticUsageLimitPolicy implements Plugin {
  readonly kind = 'usage-limit-policy' as const;
  readonly type = STATIC_USAGE_LIMIT_POLICY_TYPE;
  readonly name: string;
  /** Dispatch while the detector's saturation is below this, in (0, 1]. */
  readonly threshold: number;

  constructor(name: string = STATIC_USAGE_LIMIT_POLICY_TYPE, threshold = 1) {
    this.name = name;
    this.threshold = threshold;
  }
}

export function isUsageLimitPolicy(p: Plugin): p is StaticUsageLimitPolicy {
  return (p as Partial<StaticUsageLimitPolicy>).kind === 'usage-limit-policy';
}

/** Parameters, as llm-d's: `threshold`, in (0, 1], default 1. */
export const staticUsageLimitPolicyFactory: PluginFactory = (name, _p, r) => new StaticUsageLimitPolicy(name, r.number('threshold', 1, { above: 0, max: 1 }));
