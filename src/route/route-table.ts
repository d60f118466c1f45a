/** Compiles HTTPRoutes into a table that answers per-request matching without re-parsing anything. */
import type { HTTPRoute } from '../api/http-route.js';
import type { RouteMatchResult } from './route-request.js';
import { keyOf } from '../api/object-meta.js';
import { compilePath, type CompiledPath } from './path-match.js';
import { compileValueMatches, type CompiledValueMatch } from './value-match.js';
import { wildcardSuffix } from './hostname-match.js';
import { comparePrecedence, parseCreated, type PrecedenceKey } from './precedence.js';
import { gatewayMismatch } from './parent-gateway.js';
import { prepareWeights } from './pick-backend.js';

/** One (route, rule, match) triple with its conditions compiled; it matches when all of them hold. */
export interface RouteEntry extends RouteMatchResult, PrecedenceKey {
  readonly path: CompiledPath;
  readonly method: string | undefined;
  /** Names lower-cased. */
  readonly headers: readonly CompiledValueMatch[];
  readonly queryParams: readonly CompiledValueMatch[];
}

/** A route this gateway does not serve, and why: the reason reads after "route X ignored: ". */
export interface IgnoredRoute {
  readonly route: HTTPRoute;
  readonly reason: string;
  /** Its entries, compiled anyway so a 404 can say "this ignored route would have matched". */
  readonly entries: readonly RouteEntry[];
}

/**
 * The routes' entries, grouped by the hostnames they accept. Every list is in precedence order. The Gateway
 * API gives routes whose hostnames match the request more precisely precedence over path and header
 * criteria: a precise hostname, then wildcards by length, then routes without hostnames.
 */
export interface HostIndex {
  /** Precise hostname -> entries of routes that list it. */
  readonly exact: ReadonlyMap<string, readonly RouteEntry[]>;
  /** Wildcard suffix (`example.com` for `*.example.com`) -> entries of routes that list the wildcard. */
  readonly wildcard: ReadonlyMap<string, readonly RouteEntry[]>;
  /** Entries of routes without hostnames: they accept any Host, and requests with none. */
  readonly any: readonly RouteEntry[];
}

/**
 * An immutable, compiled view of one configuration snapshot's HTTPRoutes. Build it once with
 * compileRoutes when the configuration changes; matchRoute only reads it.
 */
export interface RouteTable {
  /** Every entry of every served route, in Gateway API precedence order (hostnames aside). */
  readonly entries: readonly RouteEntry[];
  readonly hosts: HostIndex;
  /** Routes left out because they attach to another gateway. */
  readonly ignored: readonly IgnoredRoute[];
}

export interface CompileOptions {
  /** When set, only routes with a parentRef to the Gateway of this name are served. */
  gatewayName?: string;
}

/**
 * Compiles `routes` into a RouteTable. Without `gatewayName` this gateway stands for every Gateway, so
 * every route is served; with it, routes attached elsewhere go to `ignored` with the reason.
 */
export function compileRoutes(routes: readonly HTTPRoute[], opts: CompileOptions = {}): RouteTable {
  const entries: RouteEntry[] = [];
  const ignored: IgnoredRoute[] = [];
  for (const route of routes) {
    const reason = opts.gatewayName === undefined ? undefined : gatewayMismatch(route, opts.gatewayName);
    const compiled = compileRoute(route);
    if (reason === undefined) entries.push(...compiled);
    else ignored.push({ route, reason, entries: compiled.sort(comparePrecedence) });
  }
  entries.sort(comparePrecedence);
  return { entries, hosts: indexByHost(entries), ignored };
}

function compileRoute(route: HTTPRoute): RouteEntry[] {
  const created = parseCreated(route.meta.creationTimestamp);
  const routeKey = keyOf(route.meta);
  const out: RouteEntry[] = [];
  route.rules.forEach((rule, ruleIndex) => {
    prepareWeights(rule);
    rule.matches.forEach((match, matchIndex) => {
      const path = compilePath(match.path);
      const headers = compileValueMatches(match.headers, true);
      const queryParams = compileValueMatches(match.queryParams, false);
      out.push({
        route, ruleIndex, matchIndex, rule, match,
        path, method: match.method, headers, queryParams,
        pathRank: path.rank, pathLength: path.length, hasMethod: match.method !== undefined,
        headerCount: headers.length, queryCount: queryParams.length,
        created, routeKey,
      });
    });
  });
  return out;
}

/** Filtering a sorted list keeps it sorted, so each host bucket is in precedence order too. */
function indexByHost(sorted: readonly RouteEntry[]): HostIndex {
  const exact = new Map<string, RouteEntry[]>();
  const wildcard = new Map<string, RouteEntry[]>();
  const any: RouteEntry[] = [];
  for (const entry of sorted) {
    const hostnames = entry.route.hostnames;
    if (hostnames.length === 0) {
      any.push(entry);
      continue;
    }
    // A route listing both "a.example.com" and "*.example.com" is still added once per bucket.
    for (const hostname of new Set(hostnames.map((h) => h.toLowerCase()))) {
      const suffix = wildcardSuffix(hostname);
      const map = suffix === undefined ? exact : wildcard;
      const key = suffix ?? hostname;
      const list = map.get(key);
      if (list) list.push(entry);
      else map.set(key, [entry]);
    }
  }
  return { exact, wildcard, any };
}
