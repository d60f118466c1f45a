/** Turns a traced pick into a `GET /debug/scheduling` entry; the HTTP proxy and the ext_proc picker both record. */
import type { DecisionLog } from '../observability/decision-log.js';
import type { RoutePlan } from './plan-request.js';

export function recordDecision(log: DecisionLog, plan: RoutePlan, requestId: string): void {
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
