/** The handler's two steps with `--api-keys` on: the headers before planning, and admission once the model is known. */
import type { RequestRecord } from '../observability/request-record.js';
import type { RoutePlan } from '../proxy/plan-request.js';
import type { KeyEntry } from './key-entry.js';
import type { Admission, Tenancy } from './tenancy.js';

/**
 * The client's credential was meant for the gateway: it is never forwarded, nor seen by plugins, logs or traces
 * (a pool's own key is put on by the upstream, src/upstream/upstream-auth.ts). The objective becomes the key's.
 */
export function tenantHeaders(tenancy: Tenancy, entry: KeyEntry, lower: Map<string, string>, upstream: Record<string, string | string[]>): void {
  lower.delete('authorization');
  lower.delete('api-key');
  delete upstream.authorization;
  delete upstream['api-key'];
  tenancy.applyObjective(entry, lower);
}

/**
 * Puts the tenant on the plan and the record (flow control and the metrics read it there), checks the model
 * against the key (403), and counts the request against the tenant's limits (429). The key's own priority,
 * when it sets one, replaces the plan's.
 */
export function admitRequest(tenancy: Tenancy, entry: KeyEntry, plan: RoutePlan, bodyBytes: number, record: RequestRecord | undefined): Admission | Promise<Admission> {
  const tenant = entry.tenant;
  plan.tenant = tenant;
  if (tenant.priority !== undefined) plan.priority = tenant.priority;
  if (record) {
    record.tenant = tenant;
    record.fairnessId = tenant.name;
    record.priority = plan.priority;
  }
  const model = plan.rewrittenFrom ?? plan.model;
  if (model !== undefined) tenancy.checkModel(entry, model);
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
