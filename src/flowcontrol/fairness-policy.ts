/** The contract of a fairness policy: which flow of a priority band dispatches next. */
import type { Plugin } from '../epp/framework/plugin.js';
import type { FlowQueue } from './flow-queue.js';
import type { OrderingPolicy } from './ordering-policy.js';

/**
 * Picks the next flow among a band's non-empty flows (`flows` is never empty, each has a head), listed by
 * `FlowQueue.order`. A policy may keep state (a round-robin cursor): each band gets its own through `forBand`,
 * with the band's ordering policy.
 */
export interface FairnessPolicy extends Plugin {
  readonly kind: 'fairness-policy';
  /** The policy's state for one band. */
  forBand(ordering: OrderingPolicy): BandFairness;
}

export interface BandFairness {
  select(flows: readonly FlowQueue[]): FlowQueue;
}

export function isFairnessPolicy(p: Plugin): p is FairnessPolicy {
  return (p as Partial<FairnessPolicy>).kind === 'fairness-policy';
}
