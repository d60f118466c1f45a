/** Turns a traced pick into a `GET /debug/scheduling` entry; the HTTP proxy and the ext_proc picker both record. */
import { randomUUID } from 'node:crypto';
import { judgeCandidates } from '../epp/eligibility.js';
import type { Decision, DecisionLog } from '../observability/decision-log.js';
import type { CycleTrace } from '../epp/framework/run-cycle.js';
import { planPick } from './pick-stage.js';
import type { PickOutcome } from './pick-outcome.js';
import type { GatewayState, RoutePlan } from './plan-request.js';

/**
 * planPick for live traffic: traced and recorded in `decisions` when that log is on (a failed pick too, with
 * the scores that led to it); traced without recording when `traceAnyway` (a sampled request's span reads
 * the scores); untraced, at no cost, otherwise.
 */
export function pickAndRecord(state: GatewayState, plan: RoutePlan, exclude: ReadonlySet<string> | undefined, decisions: DecisionLog | undefined, traceAnyway = false): PickOutcome {
  const logged = decisions?.enabled === true;
  try {
    return planPick(state, plan, exclude, logged || traceAnyway, false);
  } finally {
    if (logged) recordDecision(decisions!, plan, plan.requestId ?? randomUUID(), exclude);
  }
}

/** The traces of the plan's last pick, one per scheduling profile that ran. */
export function scheduleTraces(plan: RoutePlan): CycleTrace[] {
  return [...(plan.schedule?.results.values() ?? [])].flatMap((r) => (r.trace ? [r.trace] : []));
}

function recordDecision(log: DecisionLog, plan: RoutePlan, requestId: string, exclude: ReadonlySet<string> | undefined): void {
  const profiles = scheduleTraces(plan);
  const excluded = plan.view ? excludedEndpoints(plan, exclude) : undefined;
  log.record({
    time: new Date().toISOString(),
    requestId,
    pool: plan.view?.key ?? '',
    model: plan.model ?? null,
    priority: plan.priority,
    picked: plan.schedule?.endpoint?.address ?? null,
    profiles,
    ...(excluded ? { excluded } : {}),
  });
}

/** The pool's endpoints eligibility left out, by the same rules as the pick; undefined when none was. */
function excludedEndpoints(plan: RoutePlan, exclude: ReadonlySet<string> | undefined): Decision['excluded'] {
  const verdicts = judgeCandidates(plan.view!, { model: plan.model, ...(exclude ? { exclude } : {}) });
  const out: Record<string, string> = {};
  let any = false;
  for (const v of verdicts) {
    if (v.excluded === undefined) continue;
    out[v.address] = v.excluded;
    any = true;
  }
  return any ? out : undefined;
}
