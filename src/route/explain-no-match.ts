/** Why no HTTPRoute served a request: the nearest misses, phrased so the caller can fix the request or the route. */
import type { RouteEntry, RouteTable } from './route-table.js';
import type { RouteRequest } from './route-request.js';
import type { CompiledValueMatch } from './value-match.js';
import { entryMatches } from './entry-match.js';
import { normalizeHost, routeAcceptsHost } from './hostname-match.js';
import { describeRuleRef } from './describe.js';
import { keyOf } from '../api/object-meta.js';

const MAX_VALUE_CHARS = 60;

/**
 * Short reasons, at most `limit` lines, why `req` matched no route; meant for 404 messages after matchRoute
 * returned undefined (it returns [] when something does match). Only the nearest kind of miss is reported,
 * nearest first:
 * 1. a route that would match but is ignored because it attaches to another gateway;
 * 2. path and hostname match, but the method, a header or a query parameter does not;
 * 3. path matches, hostname does not;
 * 4. nothing matches the path: each entry's path condition.
 * Each tier lists entries in precedence order, e.g.
 * `route default/gemma rule 0: header x-gateway-base-model-name is "foo", wants "google/gemma-2b-it"`.
 */
export function explainNoMatch(table: RouteTable, req: RouteRequest, limit = 5): string[] {
  const host = req.host === undefined ? undefined : normalizeHost(req.host);
  const ignoredHits: string[] = [];
  const conditionMisses: string[] = [];
  const hostMisses: string[] = [];
  const pathMisses: string[] = [];
  for (const ignored of table.ignored) {
    const entry = ignored.entries.find((e) => routeAcceptsHost(e.route.hostnames, host) && entryMatches(e, req));
    if (entry) ignoredHits.push(`${describeRuleRef(entry)} would match, but ${keyOf(entry.route.meta)} is ignored: ${ignored.reason}`);
  }
  for (const entry of table.entries) {
    const ref = describeRuleRef(entry);
    if (!entry.path.test(req.path)) {
      pathMisses.push(`${ref}: path ${quote(req.path)} does not match ${entry.match.path.type} ${entry.match.path.value}`);
    } else if (!routeAcceptsHost(entry.route.hostnames, host)) {
      const got = host === undefined ? 'is missing' : `is ${quote(host)}`;
      hostMisses.push(`${ref}: host ${got}, wants one of ${entry.route.hostnames.join(', ')}`);
    } else {
      const misses = describeMisses(entry, req);
      if (misses.length === 0) return [];
      conditionMisses.push(`${ref}: ${misses.join('; ')}`);
    }
  }
  const nearest = [ignoredHits, conditionMisses, hostMisses, pathMisses].find((t) => t.length > 0) ?? noRoutesReasons(table);
  return cap([...new Set(nearest)], limit);
}

function cap(lines: string[], limit: number): string[] {
  if (lines.length <= limit) return lines;
  const shown = lines.slice(0, Math.max(0, limit - 1));
  return [...shown, `...and ${lines.length - shown.length} more`];
}

function describeMisses(entry: RouteEntry, req: RouteRequest): string[] {
  const misses: string[] = [];
  if (entry.method !== undefined && entry.method !== req.method) misses.push(`method is ${req.method}, wants ${entry.method}`);
  for (const h of entry.headers) {
    const miss = valueMiss('header', h, req.headers(h.name));
    if (miss) misses.push(miss);
  }
  for (const q of entry.queryParams) {
    const miss = valueMiss('query param', q, req.query.get(q.name) ?? undefined);
    if (miss) misses.push(miss);
  }
  return misses;
}

function valueMiss(what: string, m: CompiledValueMatch, value: string | undefined): string | undefined {
  if (m.test(value)) return undefined;
  const got = value === undefined ? 'is missing' : `is ${quote(value)}`;
  const wants = m.spec.type === 'Exact' ? quote(m.spec.value) : `a match of /${m.spec.value}/`;
  return `${what} ${m.name} ${got}, wants ${wants}`;
}

/** Nothing is served at all: say so, and why each route was left out. */
function noRoutesReasons(table: RouteTable): string[] {
  if (table.ignored.length === 0) return ['no HTTPRoute is configured'];
  return table.ignored.map((i) => `route ${keyOf(i.route.meta)} ignored: ${i.reason}`);
}

/** JSON-quoted and shortened: values come from the client and may be long or hold control characters. */
function quote(value: string): string {
  const short = value.length > MAX_VALUE_CHARS ? value.slice(0, MAX_VALUE_CHARS) + '…' : value;
  return JSON.stringify(short);
}
