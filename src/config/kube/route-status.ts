/**
 * The HTTPRoute status infergate can vouch for as the Gateway: one `status.parents[]` entry per parentRef that
 * names a Gateway infergate serves, with `Accepted` and `ResolvedRefs` (Gateway API's RouteParentStatus).
 * Pure functions; status-writer.ts sends the result.
 */
import { keyOf } from '../../api/object-meta.js';
import { INFERENCE_POOL_GROUP } from '../../api/inference-pool.js';
import type { HTTPRoute } from '../../api/http-route.js';
import { GATEWAY_GROUP, gatewayMismatch } from '../../route/parent-gateway.js';
import type { ConfigSnapshot } from '../snapshot.js';
import { truncate, type ConditionJson, type ParentRefJson, type ParentStatusJson } from './pool-status.js';

/** `controllerName` of infergate's GatewayClass, and of the route parent entries it writes. */
export const INFERGATE_CONTROLLER_NAME = 'infergate.io/gateway-controller';

/** The legacy group is read as InferencePool too (src/api/http-route.ts). */
const POOL_GROUPS = new Set([INFERENCE_POOL_GROUP, 'inference.networking.x-k8s.io']);

export interface RouteStatusFacts {
  snapshot: ConfigSnapshot;
  /** `--gateway-name`: only parentRefs to this Gateway are infergate's; every Gateway parentRef when unset, as routing does. */
  gatewayName?: string;
  controllerName?: string;
  /**
   * `namespace/name` of the Gateways infergate serves (gateway-status.ts ourGateways), when Gateways can be read:
   * parentRefs to other Gateways are left to their controllers. Unset: every parentRef routing serves.
   */
  servedGateways?: ReadonlySet<string>;
  /** `Kind/namespace/name` -> why the object was left out of the snapshot: such a pool exists. */
  rejected?: ReadonlyMap<string, readonly string[]>;
}

/** Route key -> the parent entries infergate stands behind (conditions without lastTransitionTime). */
export function desiredRouteParents(facts: RouteStatusFacts): Map<string, ParentStatusJson[]> {
  const controllerName = facts.controllerName ?? INFERGATE_CONTROLLER_NAME;
  const out = new Map<string, ParentStatusJson[]>();
  for (const route of facts.snapshot.routes) {
    const parents = servedParents(route, facts.gatewayName).filter((p) => !facts.servedGateways || facts.servedGateways.has(`${p.namespace ?? route.meta.namespace}/${p.name}`));
    if (parents.length === 0) continue;
    const conditions = [accepted(route), resolvedRefs(route, facts)];
    out.set(keyOf(route.meta), parents.map((parentRef) => ({ parentRef, controllerName, conditions })));
  }
  return out;
}

/** The parentRefs, as the route spells them, of Gateways infergate acts as (the same test routing uses). */
export function servedParents(route: HTTPRoute, gatewayName: string | undefined): ParentRefJson[] {
  if (gatewayName !== undefined && gatewayMismatch(route, gatewayName) !== undefined) return [];
  return route.parentRefs
    .filter((p) => p.kind === 'Gateway' && p.group === GATEWAY_GROUP && (gatewayName === undefined || p.name === gatewayName))
    .map((p) => ({ group: GATEWAY_GROUP, kind: 'Gateway', namespace: p.namespace, name: p.name, ...(p.sectionName !== undefined ? { sectionName: p.sectionName } : {}) }));
}

function accepted(route: HTTPRoute): ConditionJson {
  const rules = route.rules.length;
  // Served all the same, so still Accepted; but `kubectl get -o yaml` is where a route's author looks, and a filter
  // skipped without a word there sends requests on other than written (src/route/ignored-filters.ts).
  const filtered = route.rules.flatMap((r, i) => (r.filters && r.filters.length > 0 ? [`rule ${i} (${r.filters.map((f) => f.type).join(', ')})`] : []));
  const note = filtered.length > 0 ? `; it does not apply the filters of ${filtered.join(', ')}: requests matching them reach the pool as the client sent them` : '';
  return { type: 'Accepted', status: 'True', reason: 'Accepted', message: truncate(`infergate serves this route (${rules} rule${rules === 1 ? '' : 's'})${note}`) };
}

/**
 * ResolvedRefs: False/InvalidKind for a backendRef infergate cannot route to (it routes to InferencePools only),
 * else False/BackendNotFound for a pool that does not exist, else True. A pool that exists but is invalid
 * resolves: its own status says why it is not used.
 */
function resolvedRefs(route: HTTPRoute, facts: RouteStatusFacts): ConditionJson {
  const badKind: string[] = [];
  const missing: string[] = [];
  for (const rule of route.rules) {
    for (const b of rule.backendRefs) {
      if (b.kind !== 'InferencePool' || !POOL_GROUPS.has(b.group)) badKind.push(`${b.kind} ${b.name}${b.group ? ` (group ${b.group})` : ''}`);
      else if (!facts.snapshot.pools.has(`${b.namespace}/${b.name}`) && !facts.rejected?.has(`InferencePool/${b.namespace}/${b.name}`)) missing.push(`${b.namespace}/${b.name}`);
    }
  }
  if (badKind.length > 0) {
    return { type: 'ResolvedRefs', status: 'False', reason: 'InvalidKind', message: truncate(`infergate routes only to InferencePools (group ${INFERENCE_POOL_GROUP}); change the backendRef${badKind.length === 1 ? '' : 's'} ${badKind.join(', ')}`) };
  }
  if (missing.length > 0) {
    return { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound', message: truncate(`InferencePool${missing.length === 1 ? '' : 's'} ${missing.join(', ')} not found; requests to ${missing.length === 1 ? 'it' : 'them'} get 500 until ${missing.length === 1 ? 'it is' : 'they are'} created`) };
  }
  return { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'every backendRef names an InferencePool that exists' };
}
