/**
 * The data plane's side of flow control: admits a planned request to its pool's controller before the pick,
 * and waits for its dispatch. Called by src/proxy/forward.ts only when some pool has the gate on.
 */
import type { ServerResponse } from 'node:http';
import type { RoutePlan } from '../proxy/plan-request.js';
import { FlowControlRejection } from './dropped-reason.js';
import { fairnessIdOf } from './fairness-id.js';
import type { FlowController, Ticket } from './flow-controller.js';

/**
 * Admits `plan` to `controller`. Undefined: dispatched now. A ticket: wait with `waitForDispatch`. A capacity
 * rejection is thrown with the dropped-reason header already set on `res`.
 */
export function admitToFlow(controller: FlowController, plan: RoutePlan, bytes: number, res: ServerResponse): Ticket | undefined {
  try {
    return controller.admit({ fairnessId: fairnessIdOf(plan.headers, plan.tenant?.name), priority: plan.priority, bytes, model: plan.rewrittenFrom ?? plan.model, target: plan.model });
  } catch (e) {
    if (e instanceof FlowControlRejection) e.markResponse(res);
    throw e;
  }
}

/**
 * Waits for the ticket's dispatch: true once dispatched (the slot is the request's, release it when it ends);
 * false when it was dropped because the client went away (nothing to answer). Other rejections (TTL, no
 * endpoints, shutdown) are thrown with their header set on `res`.
 */
export async function waitForDispatch(ticket: Ticket, res: ServerResponse, clientGone: () => boolean): Promise<boolean> {
  try {
    await ticket.done;
    return true;
  } catch (e) {
    if (clientGone()) return false;
    if (e instanceof FlowControlRejection) e.markResponse(res);
    throw e;
  }
}
