/**
 * The front doors' side of flow control: which controller queues a planned request, its admission before the
 * pick, and its wait for dispatch. Called by src/proxy/forward.ts (serve) and src/extproc/epp-processor.ts
 * (ext_proc) only when some pool has the gate on.
 */
import type { ServerResponse } from 'node:http';
import type { Datastore } from '../epp/datastore/datastore.js';
import type { RoutePlan } from './plan-request.js';
import { FlowControlRejection } from '../flowcontrol/dropped-reason.js';
import { fairnessIdOf } from '../flowcontrol/fairness-id.js';
import type { FlowControl } from '../flowcontrol/flow-control.js';
import type { FlowController, Ticket } from '../flowcontrol/flow-controller.js';

/**
 * The controller that queues `plan`: its pool has `featureGates: [flowControl]` and infergate picks for it
 * (a pool another endpoint picker serves queues there). Off everywhere, one property read.
 */
export function flowControllerFor(fc: FlowControl | undefined, plan: RoutePlan): FlowController | undefined {
  if (fc === undefined || !fc.enabled || plan.external !== undefined || plan.view === undefined) return undefined;
  return fc.controller(plan.view.key);
}

/**
 * Admits `plan` to `controller` with its flow key (fairness ID, priority) and body bytes. Undefined: dispatched
 * now. A ticket: wait for its `done`. Throws a FlowControlRejection when the band or global limits are full.
 */
export function admitPlan(controller: FlowController, plan: RoutePlan, bytes: number): Ticket | undefined {
  const fairnessId = fairnessIdOf(plan.headers, plan.tenant?.name, controller.config.agentIdentity);
  plan.fairnessId = fairnessId;
  return controller.admit({ fairnessId, priority: plan.priority, bytes, model: plan.rewrittenFrom ?? plan.model, target: plan.model });
}

/** Gives back the dispatch slot `plan` held once it ends, with the flow key it was admitted under (the fairShareHoldback counts per flow). */
export function releasePlan(controller: FlowController, plan: RoutePlan): void {
  controller.release({ fairnessId: plan.fairnessId ?? fairnessIdOf(plan.headers, plan.tenant?.name, controller.config.agentIdentity), priority: plan.priority });
}

/** As admitPlan, for the standalone gateway: a capacity rejection is thrown with the dropped-reason header already set on `res`. */
export function admitToFlow(controller: FlowController, plan: RoutePlan, bytes: number, res: ServerResponse): Ticket | undefined {
  try {
    return admitPlan(controller, plan, bytes);
  } catch (e) {
    if (e instanceof FlowControlRejection) e.markResponse(res);
    throw e;
  }
}

/**
 * Waits for the ticket's dispatch: true once dispatched (the slot is the request's, release it when it ends);
 * false when the caller dropped it (`cancelled`: its client went away, or its deadline passed; the caller
 * answers, or not). Other rejections (TTL, no endpoints, shutdown) are thrown with their header set on `res`.
 */
export async function waitForDispatch(ticket: Ticket, res: ServerResponse, cancelled: () => boolean): Promise<boolean> {
  try {
    await ticket.done;
    return true;
  } catch (e) {
    if (cancelled()) return false;
    if (e instanceof FlowControlRejection) e.markResponse(res);
    throw e;
  }
}

/** After a wait the pool's endpoints may have changed (a scale-up from zero): the pick sees them as they are now. */
export function viewAfterWait(datastore: Datastore, plan: RoutePlan): void {
  if (plan.pin === undefined && plan.view !== undefined) plan.view = datastore.pool(plan.view.key) ?? plan.view;
}
