/** The handler's two steps with `--api-keys` on: the headers before planning, and admission once the model is known. */
import { FAIRNESS_ID_HEADER, OBJECTIVE_HEADER } from '../api/llm-d-names.js';
import { unknownModelError } from '../bbr/resolve-base-model.js';
import { routedModels } from './routed-models.js';
import { RouteNotFound } from './route-not-found.js';
import type { GatewayError } from '../errors.js';
import type { RequestRecord } from '../observability/request-record.js';
import type { GatewayState, RoutePlan } from './plan-request.js';
import type { KeyEntry } from '../tenancy/key-entry.js';
import type { Admission, Tenancy } from '../tenancy/tenancy.js';

/** Every header a client's key may come in (src/tenancy/api-key.ts, presentedKey). */
const CREDENTIAL_HEADERS = ['authorization', 'api-key', 'x-api-key'] as const;

/**
 * The client's credential was meant for the gateway: it is never forwarded, nor seen by plugins, logs or traces
 * (a pool's own key is put on by the upstream, src/upstream/upstream-auth.ts). The objective becomes the key's,
 * and the fairness ID the tenant, in what planning reads and in what goes on alike: an external endpoint picker
 * (llm-d's reads both headers for its flow control) and the pods never see a client's own.
 */
export function tenantHeaders(tenancy: Tenancy, entry: KeyEntry, lower: Map<string, string>, upstream: Record<string, string | string[]>): void {
  for (const name of CREDENTIAL_HEADERS) {
    lower.delete(name);
    delete upstream[name];
  }
  tenancy.applyObjective(entry, lower);
  lower.delete(FAIRNESS_ID_HEADER.alias);
  lower.set(FAIRNESS_ID_HEADER.name, entry.tenant.name);
  for (const name of [OBJECTIVE_HEADER.name, OBJECTIVE_HEADER.alias, FAIRNESS_ID_HEADER.name, FAIRNESS_ID_HEADER.alias]) {
    const value = lower.get(name);
    if (value === undefined) delete upstream[name];
    else upstream[name] = value;
  }
}

/**
 * Puts the tenant on the plan and the record (flow control and the metrics read it there), checks the model
 * against the key (403), and counts the request against the tenant's limits (429). The key's own priority,
 * when it sets one, replaces the plan's, unless the key lets the client name its objective and it did.
 */
export function admitRequest(tenancy: Tenancy, entry: KeyEntry, plan: RoutePlan, bodyBytes: number, record: RequestRecord | undefined): Admission | Promise<Admission> {
  const tenant = entry.tenant;
  plan.tenant = tenant;
  const priority = tenancy.keyPriority(entry, plan.headers);
  if (priority !== undefined) plan.priority = priority;
  // The key's own objective, which its pool does not define: the operator hears of it (the client cannot fix it).
  const unknown = plan.unknownObjective;
  if (unknown !== undefined && unknown.name === tenant.objective) tenancy.unknownObjective(tenant, unknown.pool);
  if (record) {
    record.tenant = tenant;
    record.fairnessId = tenant.name;
    record.priority = plan.priority;
  }
  const model = plan.rewrittenFrom ?? plan.model;
  if (model !== undefined) tenancy.checkModel(entry, model);
  // A client's model-name-rewrite header names the model served: the key must allow it as well as the body's.
  if (plan.rewriteHeaderTarget !== undefined) tenancy.checkModel(entry, plan.rewriteHeaderTarget);
  const a = tenancy.admit(entry, bodyBytes);
  if (!record) return a;
  if (a instanceof Promise) {
    return a.then((x) => {
      record.tenantAdmission = x;
      return x;
    });
  }
  record.tenantAdmission = a;
  return a;
}

/**
 * A plan's refusal as the key's holder may see it. A model the key may not use is its 403, whether or
 * not anything serves it; an unknown model the key may use gets the 404 whose list of served models holds only
 * those the key may use, as its GET /v1/models does; a path no route matches is the 404 without the closest rules
 * (their header matches name the models). Otherwise the plan's error as it is. Without this, a tenant could list
 * every other tenant's models by asking for one that does not exist, or for `GET /`.
 */
export function tenantPlanError(tenancy: Tenancy, entry: KeyEntry, plan: RoutePlan, state: GatewayState, host?: string): GatewayError {
  const error = plan.error!;
  // The closest rules name every route's model header: the other tenants' models among them.
  if (error instanceof RouteNotFound) return error.forTenant();
  if (plan.model === undefined) return error;
  const refusal = tenancy.modelRefusal(entry, plan.model);
  if (refusal !== undefined) return refusal;
  if (error.code !== 'model_not_found') return error;
  const reached = routedModels(state, host);
  return unknownModelError(plan.model, state.snapshot.allowlistTable, state.datastore.catalog(), state.strictAllowlist, (m) => entry.models.allows(m), (m) => reached.has(m));
}
