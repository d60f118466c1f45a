/** Weighted choice among a rule's backendRefs (traffic splitting across InferencePools). */
import type { BackendRef, RouteRule } from '../api/http-route.js';

interface Weights {
  /** Running totals: `cumulative[i]` is the sum of weights of backendRefs 0..i. */
  readonly cumulative: readonly number[];
  readonly total: number;
}

// Keyed by the rule object: rules belong to an immutable configuration snapshot, and a WeakMap lets the
// totals go with it when a new snapshot replaces it.
const WEIGHTS = new WeakMap<RouteRule, Weights>();

/** Computes and caches `rule`'s running weight totals; compileRoutes calls it so requests never do. */
export function prepareWeights(rule: RouteRule): Weights {
  const cached = WEIGHTS.get(rule);
  if (cached !== undefined) return cached;
  const cumulative: number[] = [];
  let total = 0;
  for (const ref of rule.backendRefs) {
    total += Math.max(0, ref.weight);
    cumulative.push(total);
  }
  const weights = { cumulative, total };
  WEIGHTS.set(rule, weights);
  return weights;
}

/**
 * Picks one of `rule.backendRefs` with probability weight / sum of weights. A backendRef of weight 0 is
 * never chosen; undefined when there are no backendRefs or every weight is 0 (the Gateway API then
 * expects a 500 for the request). `random` returns a number in [0, 1), like Math.random.
 */
export function pickBackend(rule: RouteRule, random: () => number = Math.random): BackendRef | undefined {
  const { cumulative, total } = WEIGHTS.get(rule) ?? prepareWeights(rule);
  if (total === 0) return undefined;
  const refs = rule.backendRefs;
  if (refs.length === 1) return refs[0];
  const r = random() * total;
  let last: BackendRef | undefined;
  for (let i = 0; i < refs.length; i++) {
    // A zero weight adds nothing to the running total, so `r < cumulative[i]` already held for an earlier ref.
    if (r < (cumulative[i] as number)) return refs[i];
    if ((refs[i] as BackendRef).weight > 0) last = refs[i];
  }
  // Only reached when `random` returned 1 (or more): give it to the last ref that can be chosen.
  return last;
}
