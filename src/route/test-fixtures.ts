/** Builders for HTTPRoute test fixtures that read like the YAML: `route('gemma').rule(match().header(...), pool('gemma-pool', 70))`. */
import type { BackendRef, HTTPRoute, ParentRef, PathMatch, RouteMatch, RouteRule, ValueMatch } from '../api/http-route.js';
import type { ObjectMeta } from '../api/object-meta.js';
import type { SourceLocation } from '../api/config-issue.js';
import { INFERENCE_POOL_GROUP } from '../api/inference-pool.js';
import { GATEWAY_GROUP } from './parent-gateway.js';
import type { RouteRequest } from './route-request.js';

/** An HTTPRoute under construction; it is an HTTPRoute itself, so it can be passed to compileRoutes as is. */
export class RouteBuilder implements HTTPRoute {
  readonly kind = 'HTTPRoute';
  readonly meta: ObjectMeta;
  readonly source: SourceLocation;
  readonly parentRefs: ParentRef[] = [];
  readonly hostnames: string[] = [];
  readonly rules: RouteRule[] = [];

  constructor(name: string, namespace: string) {
    this.meta = { name, namespace, labels: {}, annotations: {} };
    this.source = { file: 'test.yaml', document: 1, kind: 'HTTPRoute', namespace, name };
  }

  created(timestamp: string): this {
    this.meta.creationTimestamp = timestamp;
    return this;
  }

  /** A parentRef; kind Gateway in group gateway.networking.k8s.io unless said otherwise. */
  parent(name: string, kind = 'Gateway', group = GATEWAY_GROUP): this {
    this.parentRefs.push({ group, kind, name, namespace: this.meta.namespace });
    return this;
  }

  host(...hostnames: string[]): this {
    this.hostnames.push(...hostnames);
    return this;
  }

  /** A rule from its matches and backendRefs in any order; no matches means PathPrefix "/", as the reader does. */
  rule(...parts: (MatchBuilder | BackendRef)[]): this {
    const matches = parts.filter((p): p is MatchBuilder => p instanceof MatchBuilder);
    const backendRefs = parts.filter((p): p is BackendRef => !(p instanceof MatchBuilder));
    this.rules.push({ matches: matches.length > 0 ? matches : [match()], backendRefs });
    return this;
  }

  /** Like rule(), with a rule name. */
  namedRule(name: string, ...parts: (MatchBuilder | BackendRef)[]): this {
    this.rule(...parts);
    (this.rules[this.rules.length - 1] as RouteRule).name = name;
    return this;
  }
}

/** One `matches[]` entry; PathPrefix "/" until told otherwise. */
export class MatchBuilder implements RouteMatch {
  path: PathMatch = { type: 'PathPrefix', value: '/' };
  readonly headers: ValueMatch[] = [];
  readonly queryParams: ValueMatch[] = [];
  method?: string;

  prefix(value: string): this {
    this.path = { type: 'PathPrefix', value };
    return this;
  }

  exact(value: string): this {
    this.path = { type: 'Exact', value };
    return this;
  }

  regex(value: string): this {
    this.path = { type: 'RegularExpression', value };
    return this;
  }

  header(name: string, value: string, type: ValueMatch['type'] = 'Exact'): this {
    this.headers.push({ type, name, value });
    return this;
  }

  query(name: string, value: string, type: ValueMatch['type'] = 'Exact'): this {
    this.queryParams.push({ type, name, value });
    return this;
  }

  verb(method: string): this {
    this.method = method;
    return this;
  }
}

export function route(name: string, namespace = 'default'): RouteBuilder {
  return new RouteBuilder(name, namespace);
}

export function match(): MatchBuilder {
  return new MatchBuilder();
}

/** An InferencePool backendRef. */
export function pool(name: string, weight = 1, namespace = 'default'): BackendRef {
  return { group: INFERENCE_POOL_GROUP, kind: 'InferencePool', name, namespace, weight };
}

/** A request for matchRoute: headers given with any case, looked up lower-cased as the server does. */
export function request(
  method: string,
  target: string,
  opts: { headers?: Record<string, string>; host?: string } = {},
): RouteRequest {
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : target.slice(q + 1));
  const headers = new Map(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const req: RouteRequest = { method, path, query, headers: (name) => headers.get(name) };
  if (opts.host !== undefined) req.host = opts.host;
  return req;
}
