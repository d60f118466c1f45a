/**
 * `edf-ordering-policy`: earliest deadline first, the deadline being arrival + the request's TTL. Requests
 * without a TTL (`defaultRequestTTL: 0s`) have no deadline and go after every one that has.
 */
import type { PluginFactory } from '../epp/framework/registry.js';
import type { OrderingPolicy } from './ordering-policy.js';
import type { QueuedRequest } from './queued-request.js';

export const EDF_ORDERING_POLICY_TYPE = 'edf-ordering-policy';

export class EdfOrderingPolicy implements OrderingPolicy {
  readonly kind = 'ordering-policy' as const;
  readonly type = EDF_ORDERING_POLICY_TYPE;
  readonly name: string;

  constructor(name: string = EDF_ORDERING_POLICY_TYPE) {
    this.name = name;
  }

  compare(a: QueuedRequest, b: QueuedRequest): number {
    if (a.deadline !== b.deadline) return a.deadline < b.deadline ? -1 : 1;
    return a.seq - b.seq;
  }
}

export const edfOrderingPolicyFactory: PluginFactory = (name) => new EdfOrderingPolicy(name);
