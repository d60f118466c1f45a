/** Turns a traced pick into a `GET /debug/scheduling` entry; the HTTP proxy and the ext_proc picker both record. */
import { randomUUID } from 'node:crypto';
import type { DecisionLog } from '../observability/decision-log.js';
import { planPick, type PickOutcome } from './pick-stage.js';
import type { GatewayState, RoutePlan } from './plan-request.js';

/**
 * planPick for live traffic: traced and recorded in `decisions` when that log is on (a failed pick too, with
 * the scores that led to it); untraced, at no cost, when it is off.
 */
export function pickAndRecord(state: GatewayState, plan: RoutePlan, exclude: ReadonlySet<string> | undefined, decisions: DecisionLog | undefined): PickOutcome {
  const traced = decisions?.enabled === true;
  try {
    return planPick(state, plan, exclude, traced, false);
  } finally {
    if (traced) recordDecision(decisions!, plan, plan.requestId ?? randomUUID());
  }
}

function recordDecision(log: DecisionLog, plan: RoutePlan, requestId: string): void {
  const profiles = [...(plan.schedule?.results.values() ?? [])].flatMap((r) => (r.trace ? [r.trace] : []));
  log.record({
    time: new Date().toISOString(),
    requestId,
    pool: plan.view?.key ?? '',
    model: plan.model ?? null,
    priority: plan.priority,
    picked: plan.schedule?.endpoint?.address ?? null,
    profiles,
  });
}
