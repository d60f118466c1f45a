/** Copies what planning found into a request's record, for the observers; the HTTP proxy and the ext_proc picker both do. */
import { FAIRNESS_ID_HEADER, aliasedHeader } from '../api/llm-d-names.js';
import { observedName } from '../observability/observed-name.js';
import type { RequestRecord } from '../observability/request-record.js';
import type { RoutePlan } from './plan-request.js';

/**
 * Model names, pool, priority, stream and fairness id from the plan; routing ends now when `stageTimes` (an
 * observer reads the stages' ends: traces). Names the client chose are kept to a bounded length (observedName):
 * metrics labels, the access log and traces all read them here.
 */
export function recordPlan(r: RequestRecord, plan: RoutePlan, stageTimes: boolean): void {
  // Only the stages that finished get their end, so a trace puts a refusal on the stage that made it: body-based
  // routing (bad JSON, no model, an unknown one) leaves both unset, route matching (no rule) only `routedAt`.
  if (stageTimes) {
    const now = performance.now();
    if (plan.error === undefined) {
      r.routedAt = now;
      r.bbrDoneAt = plan.bbrDoneAt ?? now;
    } else if (plan.bbrDoneAt !== undefined) r.bbrDoneAt = plan.bbrDoneAt;
  }
  const sent = plan.rewrittenFrom ?? plan.model;
  if (sent !== undefined) r.model = observedName(sent);
  if (plan.model !== undefined) r.targetModel = sent === plan.model ? r.model! : observedName(plan.model);
  if (plan.rewriteName !== undefined) r.rewriteName = plan.rewriteName;
  if (plan.base) r.baseModel = plan.base.baseModel;
  if (plan.view) r.pool = plan.view.key;
  r.priority = plan.priority;
  r.stream = plan.json?.stream === true;
  if (plan.storedResponse !== undefined) r.storedResponse = true;
  const fairness = aliasedHeader((h) => plan.headers?.get(h), FAIRNESS_ID_HEADER);
  if (fairness !== undefined) r.fairnessId = observedName(fairness);
}

/** The client's W3C trace context (`traceparent`, `tracestate`), for traces to join. `get` takes lower-case names. */
export function recordTraceContext(r: RequestRecord, get: (name: string) => string | undefined): void {
  const traceparent = get('traceparent');
  if (traceparent !== undefined) r.traceparent = traceparent;
  const tracestate = get('tracestate');
  if (tracestate !== undefined) r.tracestate = tracestate;
}

/**
 * {@link recordTraceContext} from Node's parsed request headers: a repeated header as Node joins it (`, `), which
 * makes a repeated `traceparent` invalid, as it should be.
 */
export function recordClientTraceContext(r: RequestRecord, headers: Readonly<Record<string, string | string[] | undefined>>): void {
  recordTraceContext(r, (h) => {
    const v = headers[h];
    return Array.isArray(v) ? v.join(', ') : v;
  });
}
