/** Gateway API precedence between HTTPRoute matches: which of several matching rules wins. */

/** The keys one (route, rule, match) entry is ranked by, precomputed at compile time. */
export interface PrecedenceKey {
  /** 0 Exact, 1 PathPrefix, 2 RegularExpression. */
  readonly pathRank: number;
  /** Characters in the path value (trailing slashes of a prefix not counted). */
  readonly pathLength: number;
  readonly hasMethod: boolean;
  readonly headerCount: number;
  readonly queryCount: number;
  /** Milliseconds since the epoch, or undefined when the route has no (valid) creationTimestamp. */
  readonly created: number | undefined;
  /** `namespace/name` of the route. */
  readonly routeKey: string;
  readonly ruleIndex: number;
  readonly matchIndex: number;
}

/**
 * Orders entries so that the first one that matches a request is the one the Gateway API says must win
 * (https://gateway-api.sigs.k8s.io/reference/spec/#httproutematch, "continuing on ties"):
 *
 * 1. Exact path over PathPrefix; among prefixes the longest value. The spec leaves RegularExpression
 *    precedence to implementations: infergate ranks a regex after every Exact and every PathPrefix, even
 *    "/", so a regex only catches what no literal path claims. Regexes tie with one another on path.
 * 2. A method match over none.
 * 3. More header matches, then more query-param matches.
 * 4. Across routes: the oldest creationTimestamp (routes without one after those with one), then
 *    `namespace/name` in code-point order (locale-independent, so every process agrees).
 * 5. Within a route: rule order, then match order.
 *
 * Returns a negative number when `a` takes precedence over `b`.
 */
export function comparePrecedence(a: PrecedenceKey, b: PrecedenceKey): number {
  return (
    a.pathRank - b.pathRank ||
    b.pathLength - a.pathLength ||
    Number(b.hasMethod) - Number(a.hasMethod) ||
    b.headerCount - a.headerCount ||
    b.queryCount - a.queryCount ||
    compareCreated(a.created, b.created) ||
    compareStrings(a.routeKey, b.routeKey) ||
    a.ruleIndex - b.ruleIndex ||
    a.matchIndex - b.matchIndex
  );
}

/** Parses an RFC 3339 creationTimestamp; undefined when missing or unparseable, which sorts last. */
export function parseCreated(timestamp: string | undefined): number | undefined {
  if (timestamp === undefined) return undefined;
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Oldest first; a missing time after every known one. */
export function compareCreated(a: number | undefined, b: number | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  return a - b;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
