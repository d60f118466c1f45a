/**
 * `global-strict-fairness-policy` (llm-d's default): no fairness between flows; the band dispatches the
 * request its ordering policy puts first across every flow, as if the band were one queue.
 */
import type { PluginFactory } from '../epp/framework/registry.js';
import type { BandFairness, FairnessPolicy } from './fairness-policy.js';
import type { FlowQueue } from './flow-queue.js';
import type { OrderingPolicy } from './ordering-policy.js';

export const GLOBAL_STRICT_FAIRNESS_POLICY_TYPE = 'global-strict-fairness-policy';

export class GlobalStrictFairnessPolicy implements FairnessPolicy {
  readonly kind = 'fairness-policy' as const;
  readonly type = GLOBAL_STRICT_FAIRNESS_POLICY_TYPE;
  readonly name: string;

  constructor(name: string = GLOBAL_STRICT_FAIRNESS_POLICY_TYPE) {
    this.name = name;
  }

  forBand(ordering: OrderingPolicy): BandFairness {
    return {
      select(flows: readonly FlowQueue[]): FlowQueue {
        let best = flows[0]!;
        for (let i = 1; i < flows.length; i++) {
          const f = flows[i]!;
          const a = f.peek()!;
          const b = best.peek()!;
          if (ordering.compare(a, b) < 0) best = f;
        }
        return best;
      },
    };
  }
}

export const globalStrictFairnessPolicyFactory: PluginFactory = (name) => new GlobalStrictFairnessPolicy(name);
