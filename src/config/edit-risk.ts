/**
 * Whether a configuration change removes so much that it is more likely a half-written file, a deleted file,
 * a selector typo or an empty list from the API server than an edit: the configuration emptied, every pool or
 * every route gone, most routable endpoints gone, a routed pool left without endpoints, or every object of
 * one file gone.
 */
import { keyOf } from '../api/object-meta.js';
import type { Resource } from '../api/resource.js';
import type { ConfigSnapshot } from './snapshot.js';

export interface EditRules {
  /**
   * Hold a change that takes away more than this share (0..1) of the routable endpoints; undefined turns
   * the rule off (Kubernetes: pods come and go with the cluster's own rollout controls).
   */
  maxEndpointLoss?: number;
  /** Hold a change that removes every object one source file declared (a deleted file). */
  fileRemovals?: boolean;
  /**
   * Hold a change that leaves an InferencePool an HTTPRoute sends to, which had routable endpoints, with none
   * (a selector typo): its requests would all fail, however small a share of the fleet it is.
   */
  poolsEmptied?: boolean;
}

/** Counts before and after the change, for logs and /readyz. */
export interface EditCounts {
  objects: readonly [number, number];
  pools: readonly [number, number];
  routes: readonly [number, number];
  /** Routable endpoints: ready pod x targetPort of each pool that an HTTPRoute sends to. */
  endpoints: readonly [number, number];
}

export interface EditRisk {
  /** Why the change should be held back, one sentence each; empty when it may apply at once. */
  reasons: string[];
  counts: EditCounts;
  /**
   * Set when the endpoint-loss rule is one of the reasons: the smallest maximum loss, in percent (the
   * --max-endpoint-loss-percent value), that would let this loss apply at once.
   */
  endpointLossPercentNeeded?: number;
}

/** Compares the configuration in force with a candidate under `rules`. */
export function assessEdit(inForce: ConfigSnapshot, next: ConfigSnapshot, rules: EditRules): EditRisk {
  const before = resourcesOf(inForce);
  const after = resourcesOf(next);
  const endpointsBefore = routableEndpoints(inForce);
  const endpointsAfter = routableEndpoints(next);
  let lost = 0;
  let total = 0;
  // Per pool, net: a pod replaced by another (a new IP) is no loss; a pool a route no longer reaches loses all.
  for (const [pool, n] of endpointsBefore) {
    total += n;
    lost += Math.max(0, n - (endpointsAfter.get(pool) ?? 0));
  }
  const counts: EditCounts = {
    objects: [before.length, after.length],
    pools: [inForce.pools.size, next.pools.size],
    routes: [inForce.routes.length, next.routes.length],
    endpoints: [total, sum(endpointsAfter.values())],
  };
  const reasons: string[] = [];
  let endpointLossPercentNeeded: number | undefined;
  if (before.length > 0 && after.length === 0) reasons.push(`it leaves the configuration empty (${before.length} objects -> 0)`);
  else {
    if (counts.pools[0] > 0 && counts.pools[1] === 0) reasons.push(`it removes every InferencePool (${counts.pools[0]} -> 0)`);
    if (counts.routes[0] > 0 && counts.routes[1] === 0) reasons.push(`it removes every HTTPRoute (${counts.routes[0]} -> 0)`);
    if (rules.maxEndpointLoss !== undefined && total > 0 && lost / total > rules.maxEndpointLoss) {
      const allowed = Math.round(rules.maxEndpointLoss * 100);
      reasons.push(`it takes away ${lost} of ${total} routable endpoints (${percent(lost / total)}), more than the ${allowed}% allowed at once (--max-endpoint-loss-percent ${allowed})`);
      // Division is correctly rounded, so a loss of exactly this many percent compares equal and passes.
      endpointLossPercentNeeded = Math.ceil((lost * 100) / total);
    }
    if (rules.poolsEmptied) {
      // A pool removed, or no longer routed, is the rules above; this is a pool still routed to, left with nothing.
      for (const [pool, n] of endpointsBefore) {
        if (n > 0 && endpointsAfter.get(pool) === 0) reasons.push(`it leaves InferencePool ${pool} with no routable endpoints (${n} -> 0): ${whyNoEndpoints(next, pool)}`);
      }
    }
  }
  if (rules.fileRemovals) {
    for (const [file, n] of filesEmptied(before, after)) reasons.push(`it removes every object declared in ${file} (${n}): the file was deleted or no longer declares them`);
  }
  return { reasons, counts, ...(endpointLossPercentNeeded !== undefined ? { endpointLossPercentNeeded } : {}) };
}

/** Why a pool has no endpoints: no pod matches its selector (a typo), or the pods it selects cannot serve. */
function whyNoEndpoints(s: ConfigSnapshot, key: string): string {
  const members = s.members.get(key) ?? [];
  if (members.length === 0) {
    const selector = Object.entries(s.pools.get(key)?.selector ?? {}).map(([k, v]) => `${k}=${v}`);
    return `no pod matches its selector ${selector.join(',')}`;
  }
  const why = new Set(members.map((m) => m.excluded ?? 'no podIP'));
  return `none of the ${members.length} pods it selects can serve (${[...why].join('; ')})`;
}

/** Every resource of a snapshot, whatever its kind. */
export function resourcesOf(s: ConfigSnapshot): Resource[] {
  const out: Resource[] = [...s.pools.values(), ...s.routes, ...s.allowlists, ...s.pods, ...s.configMaps.values()];
  for (const byName of s.objectives.values()) out.push(...byName.values());
  for (const list of s.rewrites.values()) out.push(...list);
  return out;
}

/** Pool key -> ready pods x targetPorts, for the pools some HTTPRoute the gateway serves sends to. */
export function routableEndpoints(s: ConfigSnapshot): Map<string, number> {
  const routed = new Set<string>();
  for (const entry of s.routeTable.entries) {
    for (const b of entry.rule.backendRefs) if (b.kind === 'InferencePool') routed.add(`${b.namespace}/${b.name}`);
  }
  const out = new Map<string, number>();
  for (const [key, pool] of s.pools) {
    if (!routed.has(key)) continue;
    const ready = (s.members.get(key) ?? []).filter((m) => !m.excluded && m.pod.podIP).length;
    out.set(key, ready * pool.targetPorts.length);
  }
  return out;
}

/** Source file -> how many objects it declared, for files none of whose objects (by kind and name) remain. */
function filesEmptied(before: readonly Resource[], after: readonly Resource[]): Map<string, number> {
  const remaining = new Set(after.map(objectId));
  const declared = new Map<string, { n: number; kept: boolean }>();
  for (const r of before) {
    const f = declared.get(r.source.file) ?? { n: 0, kept: false };
    f.n++;
    // An object moved to another file is kept: only what disappears altogether counts.
    if (remaining.has(objectId(r))) f.kept = true;
    declared.set(r.source.file, f);
  }
  return new Map([...declared].filter(([, f]) => !f.kept).map(([file, f]) => [file, f.n]));
}

/** `Kind/namespace/name`: what makes two resources the same object, whichever file declares them. */
export function objectId(r: Resource): string {
  return `${r.kind}/${keyOf(r.meta)}`;
}

function sum(xs: Iterable<number>): number {
  let n = 0;
  for (const x of xs) n += x;
  return n;
}

function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}
