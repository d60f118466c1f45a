/** The contract of an ordering policy: which request of one flow goes first. */
import type { Plugin } from '../epp/framework/plugin.js';
import type { QueuedRequest } from './queued-request.js';

/**
 * Orders the requests within one flow. `compare` is a strict weak order: negative when `a` goes before `b`;
 * it never returns 0 for two distinct requests (ties break by arrival), so every flow has one head.
 */
export interface OrderingPolicy extends Plugin {
  readonly kind: 'ordering-policy';
  compare(a: QueuedRequest, b: QueuedRequest): number;
}

export function isOrderingPolicy(p: Plugin): p is OrderingPolicy {
  return (p as Partial<OrderingPolicy>).kind === 'ordering-policy';
}
