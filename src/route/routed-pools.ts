/** The InferencePools the served HTTPRoutes send requests to: what the gateway's own model list may name. */
import { normalizeHost, routeAcceptsHost } from './hostname-match.js';
import type { RouteTable } from './route-table.js';

/**
 * `namespace/name` of every InferencePool that a backendRef of weight above 0 names, in the rules of the routes
 * this gateway serves (routes attached to another Gateway are left out) whose hostnames accept `host`, the
 * request's Host (undefined when it has none). A pool outside this set cannot be reached by any request on that
 * Host, whatever its body says.
 */
export function routedPools(table: RouteTable, host: string | undefined): Set<string> {
  const normalized = host === undefined ? undefined : normalizeHost(host);
  const pools = new Set<string>();
  for (const entry of table.entries) {
    if (!routeAcceptsHost(entry.route.hostnames, normalized)) continue;
    for (const b of entry.rule.backendRefs) {
      if (b.kind === 'InferencePool' && b.weight > 0) pools.add(`${b.namespace}/${b.name}`);
    }
  }
  return pools;
}
