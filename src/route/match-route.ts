/** Per-request HTTPRoute matching: the first entry, in precedence order, whose conditions all hold. */
import type { RouteEntry, RouteTable } from './route-table.js';
import type { RouteMatchResult, RouteRequest } from './route-request.js';
import { normalizeHost } from './hostname-match.js';
import { entryMatches } from './entry-match.js';

// Re-exported so callers find the miss explanation beside the matcher it explains.
export { explainNoMatch } from './explain-no-match.js';

/**
 * Finds the route rule that serves `req`, or undefined when none does (a 404). Routes whose hostnames
 * match the Host more precisely win first (precise name, then longer wildcards, then routes without
 * hostnames), then the Gateway API match precedence decides; see comparePrecedence. Allocation-free
 * apart from host normalization: the result is the table's own entry.
 */
export function matchRoute(table: RouteTable, req: RouteRequest): RouteMatchResult | undefined {
  const { exact, wildcard, any } = table.hosts;
  if (req.host !== undefined && (exact.size > 0 || wildcard.size > 0)) {
    const host = normalizeHost(req.host);
    const precise = exact.get(host);
    if (precise !== undefined) {
      const found = firstMatch(precise, req);
      if (found !== undefined) return found;
    }
    if (wildcard.size > 0) {
      // Most specific wildcard first: for a.b.example.com try b.example.com, then example.com, then com.
      // The search starts at index 1 so at least one label stays in front of the suffix.
      for (let dot = host.indexOf('.', 1); dot !== -1; dot = host.indexOf('.', dot + 1)) {
        const list = wildcard.get(host.slice(dot + 1));
        if (list === undefined) continue;
        const found = firstMatch(list, req);
        if (found !== undefined) return found;
      }
    }
  }
  return firstMatch(any, req);
}

function firstMatch(entries: readonly RouteEntry[], req: RouteRequest): RouteEntry | undefined {
  for (const entry of entries) if (entryMatches(entry, req)) return entry;
  return undefined;
}
