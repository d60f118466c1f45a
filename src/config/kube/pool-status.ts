/**
 * The InferencePool status infergate can vouch for when it is the gateway: one `status.parents[]` entry per
 * Gateway whose HTTPRoutes send to the pool, with the `Accepted` and `ResolvedRefs` conditions and the
 * reasons GIE defines (REFERENCE §2). Pure functions; status-writer.ts sends the result.
 */
import { keyOf } from '../../api/object-meta.js';
import { INFERENCE_POOL_GROUP } from '../../api/inference-pool.js';
import type { HTTPRoute } from '../../api/http-route.js';
import { GATEWAY_GROUP as GATEWAY_API_GROUP, gatewayMismatch } from '../../route/parent-gateway.js';
import type { ConfigSnapshot } from '../snapshot.js';
import type { PickerRef } from '../../epp/picker-ref.js';

export interface ParentRefJson {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  /** HTTPRoute parents only: the listener the route attaches to. */
  sectionName?: string;
}

export interface ConditionJson {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

export interface ParentStatusJson {
  parentRef: ParentRefJson;
  /**
   * Which controller wrote the entry: required on HTTPRoute parents, optional on InferencePool ones (GIE v1.1+;
   * an older CRD prunes it).
   */
  controllerName?: string;
  conditions: ConditionJson[];
}

export interface PoolStatusFacts {
  snapshot: ConfigSnapshot;
  /** `Kind/namespace/name` -> why the object was left out of the snapshot. */
  rejected: ReadonlyMap<string, readonly string[]>;
  /** Pool key -> why its own EndpointPickerConfig could not be used. */
  pickerProblems: ReadonlyMap<string, string>;
  /** Pool key -> where its EndpointPickerConfig came from. */
  pickerOrigin: (poolKey: string) => string | undefined;
  /** Pool key -> who picks its endpoints (src/epp/picker-ref.ts); unset or undefined: infergate. */
  pickerRef?: (poolKey: string) => PickerRef | undefined;
  /** `--gateway-name`: only parentRefs to this Gateway are infergate's to report on. */
  gatewayName?: string;
}

/** `gateway.networking.k8s.io/Gateway/ns/name` (`#section` when set): parent entries are matched by this. */
export function parentKey(ref: ParentRefJson, defaultNamespace: string): string {
  const section = ref.sectionName !== undefined ? `#${ref.sectionName}` : '';
  return `${ref.group ?? GATEWAY_API_GROUP}/${ref.kind ?? 'Gateway'}/${ref.namespace ?? defaultNamespace}/${ref.name}${section}`;
}

/**
 * Pool key -> the parent entries infergate stands behind (conditions without lastTransitionTime). A pool is
 * reported for a Gateway when an HTTPRoute that infergate serves names that Gateway as a parent and the pool
 * as a backend; a pool no route reaches gets no entry from infergate.
 */
export function desiredPoolParents(facts: PoolStatusFacts): Map<string, ParentStatusJson[]> {
  const byPool = new Map<string, Map<string, { ref: ParentRefJson; routes: Set<string> }>>();
  for (const route of facts.snapshot.routes) {
    if (facts.gatewayName !== undefined && gatewayMismatch(route, facts.gatewayName) !== undefined) continue;
    const parents = gatewayParents(route, facts.gatewayName);
    if (parents.length === 0) continue;
    for (const rule of route.rules) {
      for (const b of rule.backendRefs) {
        if (b.kind !== 'InferencePool' || b.group !== INFERENCE_POOL_GROUP) continue;
        const poolKey = `${b.namespace}/${b.name}`;
        const entries = byPool.get(poolKey) ?? new Map<string, { ref: ParentRefJson; routes: Set<string> }>();
        for (const ref of parents) {
          const k = parentKey(ref, b.namespace);
          const e = entries.get(k) ?? { ref, routes: new Set<string>() };
          e.routes.add(keyOf(route.meta));
          entries.set(k, e);
        }
        byPool.set(poolKey, entries);
      }
    }
  }
  const out = new Map<string, ParentStatusJson[]>();
  for (const [poolKey, entries] of byPool) {
    const problems = facts.rejected.get(`InferencePool/${poolKey}`);
    const exists = facts.snapshot.pools.has(poolKey);
    if (!exists && !problems) continue; // no such object: nothing to write to
    out.set(
      poolKey,
      [...entries.values()].map(({ ref, routes }) => ({ parentRef: ref, conditions: poolConditions(poolKey, [...routes].sort(), problems, facts) })),
    );
  }
  return out;
}

function poolConditions(poolKey: string, routes: readonly string[], problems: readonly string[] | undefined, facts: PoolStatusFacts): ConditionJson[] {
  const via = `HTTPRoute${routes.length === 1 ? '' : 's'} ${routes.join(', ')}`;
  if (problems) {
    return [{ type: 'Accepted', status: 'False', reason: 'NotSupportedByParent', message: truncate(`infergate cannot use this InferencePool as written (referenced by ${via}): ${problems.join('; ')}`) }];
  }
  const accepted: ConditionJson = { type: 'Accepted', status: 'True', reason: 'Accepted', message: truncate(`infergate routes to this pool from ${via}`) };
  return [accepted, resolvedRefs(poolKey, facts)];
}

/** ResolvedRefs: False/InvalidExtensionRef for a ref to a missing Service or an unusable EndpointPickerConfig. */
function resolvedRefs(poolKey: string, facts: PoolStatusFacts): ConditionJson {
  const ref = facts.pickerRef?.(poolKey);
  if (ref?.picker === 'missing') {
    return { type: 'ResolvedRefs', status: 'False', reason: 'InvalidExtensionRef', message: truncate(`${ref.reason}; requests to this pool get 500 invalid_endpoint_picker_ref`) };
  }
  const pickerProblem = facts.pickerProblems.get(poolKey);
  if (pickerProblem) return { type: 'ResolvedRefs', status: 'False', reason: 'InvalidExtensionRef', message: truncate(pickerProblem) };
  const config = `EndpointPickerConfig: ${facts.pickerOrigin(poolKey) ?? 'the default'}`;
  const message =
    ref?.picker === 'external'
      ? `${ref.reason}; infergate asks that endpoint picker over ext_proc at ${ref.address.target} for each request`
      : `endpoints are picked inside infergate (${config})${ref ? `: ${ref.reason}` : '; spec.endpointPickerRef is not called'}`;
  return { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: truncate(message) };
}

/** The route's parentRefs that are Gateways infergate acts as. */
function gatewayParents(route: HTTPRoute, gatewayName: string | undefined): ParentRefJson[] {
  return route.parentRefs
    .filter((p) => p.kind === 'Gateway' && p.group === GATEWAY_API_GROUP && (gatewayName === undefined || p.name === gatewayName))
    .map((p) => ({ group: GATEWAY_API_GROUP, kind: 'Gateway', namespace: p.namespace, name: p.name }));
}

/**
 * The new `status.parents`: entries of other controllers kept as they are, infergate's replaced by `desired`
 * (each condition keeps its lastTransitionTime while its status is unchanged). `isOurs` says which existing
 * entries infergate wrote. Every entry keeps its place and new ones go last: two writers that each put their own
 * entries last (another controller, or infergate per Gateway with --gateway-name) would otherwise reorder the
 * list at every turn and never stop writing. Returns undefined when nothing would change, so no write is sent.
 */
export function mergeParents(
  existing: readonly ParentStatusJson[],
  desired: readonly ParentStatusJson[],
  poolNamespace: string,
  generation: number | undefined,
  isOurs: (key: string) => boolean,
  now: string,
): ParentStatusJson[] | undefined {
  const wanted = new Map(desired.map((d) => [parentKey(d.parentRef, poolNamespace), d]));
  const entry = (d: ParentStatusJson, prior: ParentStatusJson | undefined): ParentStatusJson => ({
    parentRef: d.parentRef,
    ...(d.controllerName !== undefined ? { controllerName: d.controllerName } : {}),
    conditions: keepTransitionTimes(d.conditions, prior?.conditions ?? [], generation, now),
  });
  const next: ParentStatusJson[] = [];
  for (const e of existing) {
    const k = parentKey(e.parentRef, poolNamespace);
    const d = wanted.get(k);
    if (d !== undefined) {
      next.push(entry(d, e));
      wanted.delete(k);
    } else if (!isOurs(k)) next.push(e);
  }
  for (const d of wanted.values()) next.push(entry(d, undefined));
  // The API allows at most 32 parents; the entries there before keep theirs.
  next.length = Math.min(next.length, 32);
  return sameParents(existing, next) ? undefined : next;
}

/** Stamps `generation` on `conditions`; each keeps its old lastTransitionTime while its status is unchanged. */
export function keepTransitionTimes(conditions: readonly ConditionJson[], before: readonly ConditionJson[], generation: number | undefined, now: string): ConditionJson[] {
  return conditions.map((c) => {
    const old = before.find((o) => o.type === c.type);
    const withGen = generation === undefined ? c : { ...c, observedGeneration: generation };
    return { ...withGen, lastTransitionTime: old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : now };
  });
}

/** Conditions in a stable form, to tell whether a write would change anything. */
export function normalizeConditions(conditions: readonly ConditionJson[]): unknown {
  return [...conditions]
    .sort((x, y) => (x.type < y.type ? -1 : 1))
    .map((c) => [c.type, c.status, c.reason, c.message, c.observedGeneration ?? null, c.lastTransitionTime ?? null]);
}

/**
 * Whether `next` would change `existing`. A controllerName `existing` lacks is no change: GIE's CRD before v1.1
 * prunes it from every write, so counting it would write the same status again at each watch event, forever.
 */
function sameParents(existing: readonly ParentStatusJson[], next: readonly ParentStatusJson[]): boolean {
  if (existing.length !== next.length) return false;
  const lacking = next.map((p, i) => (existing[i]?.controllerName === undefined ? { ...p, controllerName: undefined } : p));
  return JSON.stringify(existing.map(normalize)) === JSON.stringify(lacking.map(normalize));
}

function normalize(p: ParentStatusJson): unknown {
  return {
    parentRef: { group: p.parentRef.group ?? GATEWAY_API_GROUP, kind: p.parentRef.kind ?? 'Gateway', namespace: p.parentRef.namespace ?? null, name: p.parentRef.name, sectionName: p.parentRef.sectionName ?? null },
    controllerName: p.controllerName ?? null,
    conditions: normalizeConditions(p.conditions),
  };
}

/** metav1.Condition messages are limited to 32768 bytes. */
export function truncate(s: string): string {
  return s.length > 4000 ? `${s.slice(0, 3990)} [...]` : s;
}
