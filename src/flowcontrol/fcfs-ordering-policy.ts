/** `fcfs-ordering-policy` (llm-d's default): first come, first served by arrival. */
import type { PluginFactory } from '../epp/framework/registry.js';
import type { OrderingPolicy } from './ordering-policy.js';
import type { QueuedRequest } from './queued-request.js';

export const FCFS_ORDERING_POLICY_TYPE = 'fcfs-ordering-policy';

export class FcfsOrderingPolicy implements OrderingPolicy {
  readonly kind = 'ordering-policy' as const;
  readonly type = FCFS_ORDERING_POLICY_TYPE;
  readonly name: string;

  constructor(name: string = FCFS_ORDERING_POLICY_TYPE) {
    this.name = name;
  }

  compare(a: QueuedRequest, b: QueuedRequest): number {
    return a.seq - b.seq;
  }
}

export const fcfsOrderingPolicyFactory: PluginFactory = (name) => new FcfsOrderingPolicy(name);
