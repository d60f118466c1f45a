/** What HTTPRoute matching reads of a request, and what a match names: the types the route files share. */
import type { HTTPRoute, RouteMatch, RouteRule } from '../api/http-route.js';

/** The parts of an HTTP request that HTTPRoute matches look at. */
export interface RouteRequest {
  method: string;
  /** The request path without the query string, as received (not decoded or normalized). */
  path: string;
  query: URLSearchParams;
  /** Looks a header up by its lower-cased name; multiple values joined as the HTTP server presents them. */
  headers: (name: string) => string | undefined;
  /** The Host (or :authority), port allowed; undefined when the request has none. */
  host?: string;
}

/** What a successful match names: the route, and which of its rules and matches applied. */
export interface RouteMatchResult {
  readonly route: HTTPRoute;
  readonly ruleIndex: number;
  readonly matchIndex: number;
  readonly rule: RouteRule;
  /** `rule.matches[matchIndex]`, for describeMatch. */
  readonly match: RouteMatch;
}
