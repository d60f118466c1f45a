/**
 * What is said of an HTTPRoute rule's filters, which `serve` does not apply: the load-time warning
 * (src/config/snapshot.ts) and validate's finding (src/validate/checks/route-filters.ts) use the same words.
 */
import type { RouteFilter } from '../api/http-route.js';

/**
 * `has 2 filters (URLRewrite, RequestHeaderModifier) that infergate does not apply: ...`. A filter silently skipped
 * sends requests on other than written: a URLRewrite's path reaches the pod unrewritten (its 404), a
 * RequestHeaderModifier's header (an objective, a model rewrite) is never set, a RequestRedirect is served instead.
 */
export function ignoredFiltersText(filters: readonly RouteFilter[]): string {
  const n = filters.length;
  const named = filters.map((f) => {
    const ref = /^backendRefs\[(\d+)\]/.exec(f.field);
    return ref ? `${f.type} on backendRef ${ref[1]}` : f.type;
  });
  return (
    `has ${n === 1 ? 'a filter' : `${n} filters`} (${named.join(', ')}) that infergate does not apply: ` +
    '`infergate serve` sends requests matching it to the pool as the client sent them (no header set or removed, no path rewritten, no redirect, no mirror); ' +
    'behind an Envoy-based Gateway (`infergate extproc`) the Gateway applies them'
  );
}

export const IGNORED_FILTERS_FIX = 'Apply the change in the client or in a proxy in front of infergate, or remove the filter.';
