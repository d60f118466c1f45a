/**
 * `round-robin-fairness-policy`: the band's flows take turns, one request each, so a tenant that floods
 * waits behind its own requests and not in front of everyone else's.
 */
import type { PluginFactory } from '../epp/framework/registry.js';
import type { BandFairness, FairnessPolicy } from './fairness-policy.js';
import type { FlowQueue } from './flow-queue.js';

export const ROUND_ROBIN_FAIRNESS_POLICY_TYPE = 'round-robin-fairness-policy';

export class RoundRobinFairnessPolicy implements FairnessPolicy {
  readonly kind = 'fairness-policy' as const;
  readonly type = ROUND_ROBIN_FAIRNESS_POLICY_TYPE;
  readonly name: string;

  constructor(name: string = ROUND_ROBIN_FAIRNESS_POLICY_TYPE) {
    this.name = name;
  }

  forBand(): BandFairness {
    // The turn after the flow served last: the next flow by order, wrapping around. Flows that emptied and
    // left the band do not lose anyone their turn, since the cursor is an order, not an index.
    let last = -1;
    return {
      select(flows: readonly FlowQueue[]): FlowQueue {
        let next: FlowQueue | undefined;
        for (const f of flows) if (f.order > last && (next === undefined || f.order < next.order)) next = f;
        if (next === undefined) for (const f of flows) if (next === undefined || f.order < next.order) next = f;
        last = next!.order;
        return next!;
      },
    };
  }
}

export const roundRobinFairnessPolicyFactory: PluginFactory = (name) => new RoundRobinFairnessPolicy(name);
