/** Why no HTTPRoute served a request: the nearest misses, phrased so the caller can fix the request or the route. */
import type { RouteEntry, RouteTable } from './route-table.js';
import type { RouteRequest } from './route-request.js';
import type { CompiledValueMatch } from './value-match.js';
import { entryMatches } from './entry-match.js';
import { normalizeHost, routeAcceptsHost } from './hostname-match.js';
import { describeRuleRef } from './describe.js';
import { keyOf } from '../api/object-meta.js';
import { BASE_MODEL_NAME_HEADER } from '../bbr/routing-headers.js';

const MAX_VALUE_CHARS = 60;

/**
 * Short reasons, at most `limit` lines, why `req` matched no route; meant for 404 messages after matchRoute
 * returned undefined (it returns [] when something does match). Each line is one rule and everything of it
 * the request missed. Only the nearest kind of miss is reported, nearest first:
 * 1. a route that would match but is ignored because it attaches to another gateway;
 * 2. a rule for the request's base model (or for any) whose path and hostname match, but the method, a header
 *    or a query parameter does not;
 * 3. such a rule whose path matches and hostname does not;
 * 4. such a rule whose path does not match;
 * 5. rules for other base models (`X-Gateway-Base-Model-Name`, which body-based routing sets from the body's
 *    model): only when no rule takes this one, since the fix is then a rule for it, not one of theirs.
 * Each tier lists entries in precedence order, e.g.
 * `route default/gemma rule 0: header x-gateway-base-model-name is "foo", wants "google/gemma-2b-it"`.
 */
export function explainNoMatch(table: RouteTable, req: RouteRequest, limit = 5): string[] {
  const host = req.host === undefined ? undefined : normalizeHost(req.host);
  const ignoredHits: string[] = [];
  const conditionMisses: string[] = [];
  const hostMisses: string[] = [];
  const pathMisses: string[] = [];
  const otherModels: string[] = [];
  for (const ignored of table.ignored) {
    const entry = ignored.entries.find((e) => routeAcceptsHost(e.route.hostnames, host) && entryMatches(e, req));
    if (entry) ignoredHits.push(`${describeRuleRef(entry)} would match, but ${keyOf(entry.route.meta)} is ignored: ${ignored.reason}`);
  }
  for (const entry of table.entries) {
    const misses: string[] = [];
    const pathMiss = !entry.path.test(req.path);
    if (pathMiss) misses.push(`path ${quote(req.path)} does not match ${entry.match.path.type} ${entry.match.path.value}`);
    const hostMiss = !routeAcceptsHost(entry.route.hostnames, host);
    if (hostMiss) misses.push(`host ${host === undefined ? 'is missing' : `is ${quote(host)}`}, wants one of ${entry.route.hostnames.join(', ')}`);
    const model = describeMisses(entry, req, misses);
    if (misses.length === 0) return [];
    const line = `${describeRuleRef(entry)}: ${misses.join('; ')}`;
    (model ? otherModels : pathMiss ? pathMisses : hostMiss ? hostMisses : conditionMisses).push(line);
  }
  const nearest = [ignoredHits, conditionMisses, hostMisses, pathMisses, otherModels].find((t) => t.length > 0) ?? noRoutesReasons(table);
  return cap([...new Set(nearest)], limit);
}

function cap(lines: string[], limit: number): string[] {
  if (lines.length <= limit) return lines;
  const shown = lines.slice(0, Math.max(0, limit - 1));
  return [...shown, `...and ${lines.length - shown.length} more`];
}

/** Adds the method, header and query misses of `entry` to `misses`; true when one is the base-model header's. */
function describeMisses(entry: RouteEntry, req: RouteRequest, misses: string[]): boolean {
  let model = false;
  if (entry.method !== undefined && entry.method !== req.method) misses.push(`method is ${req.method}, wants ${entry.method}`);
  for (const h of entry.headers) {
    const isModel = h.name === BASE_MODEL_NAME_HEADER;
    // A client cannot send this header itself (the gateway drops it): it comes from the body's model.
    const miss = valueMiss('header', h, req.headers(h.name), isModel ? ` (set from the body's "model", and this request names none)` : '');
    if (!miss) continue;
    model ||= isModel;
    misses.push(miss);
  }
  for (const q of entry.queryParams) {
    const miss = valueMiss('query param', q, req.query.get(q.name) ?? undefined);
    if (miss) misses.push(miss);
  }
  return model;
}

/** `missingWhy` follows "is missing": why the value is absent, when that is not the client's to add. */
function valueMiss(what: string, m: CompiledValueMatch, value: string | undefined, missingWhy = ''): string | undefined {
  if (m.test(value)) return undefined;
  const got = value === undefined ? `is missing${missingWhy}` : `is ${quote(value)}`;
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
