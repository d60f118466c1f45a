/** HTTPRoute (gateway.networking.k8s.io/v1), the parts an inference gateway acts on. */
import type { FieldReader, Raw } from './field-reader.js';
import type { Located } from './object-meta.js';
import { INFERENCE_POOL_GROUP } from './inference-pool.js';
import { anchoredRegex } from './anchored-regex.js';

export type PathMatchType = 'Exact' | 'PathPrefix' | 'RegularExpression';
export type ValueMatchType = 'Exact' | 'RegularExpression';

export interface PathMatch {
  type: PathMatchType;
  value: string;
}

export interface ValueMatch {
  type: ValueMatchType;
  name: string;
  value: string;
}

/** One `matches[]` entry: every condition in it must hold. */
export interface RouteMatch {
  path: PathMatch;
  headers: readonly ValueMatch[];
  queryParams: readonly ValueMatch[];
  method?: string;
}

export interface BackendRef {
  group: string;
  kind: string;
  name: string;
  namespace: string;
  /** Gateway API default is 1; 0 means never chosen. */
  weight: number;
}

export interface RouteRule {
  name?: string;
  /** Never empty: a rule without matches matches every request (PathPrefix "/"). */
  matches: readonly RouteMatch[];
  backendRefs: readonly BackendRef[];
  /** Each filter the rule, then each of its backendRefs, declares, in order; `serve` applies none. Absent when there are none. */
  filters?: readonly RouteFilter[];
}

/** A filter as written, for the warning that it is not applied. */
export interface RouteFilter {
  /** `URLRewrite`, `RequestHeaderModifier`, ...; `(no type)` when it names none. */
  type: string;
  /** Where it is, from the rule: `filters[0]`, `backendRefs[1].filters[0]`. */
  field: string;
}

export interface ParentRef {
  group: string;
  kind: string;
  name: string;
  namespace: string;
  sectionName?: string;
}

export interface HTTPRoute extends Located {
  kind: 'HTTPRoute';
  parentRefs: readonly ParentRef[];
  hostnames: readonly string[];
  rules: readonly RouteRule[];
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;

/**
 * Gateway API's HTTPRoute fields (v1.3, standard and experimental), by where they sit: infergate acts on some
 * and ignores the rest (filters, timeouts, retry, ...), but only a key outside these is a typo. Every unknown
 * key makes the route accept other requests, or send them elsewhere, than written: validate errors on each.
 */
const ROUTE_FIELDS = {
  spec: ['parentRefs', 'hostnames', 'rules', 'useDefaultGateways'],
  parentRef: ['group', 'kind', 'namespace', 'name', 'sectionName', 'port'],
  rule: ['name', 'matches', 'filters', 'backendRefs', 'timeouts', 'retry', 'sessionPersistence'],
  match: ['path', 'headers', 'queryParams', 'method'],
  path: ['type', 'value'],
  valueMatch: ['type', 'name', 'value'],
  backendRef: ['group', 'kind', 'name', 'namespace', 'port', 'weight', 'filters'],
} as const;

/** Gateway API's Hostname (RFC 1123, optionally a leading `*.` label), lower-case as the API server requires; case is folded here. */
const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const ROUTES_MORE = 'the route is read without it, so it may match other requests, or send them elsewhere, than written';
const MATCHES_MORE = 'the match is read without it, so it accepts more requests than written';

export function readHTTPRoute(r: FieldReader, raw: Record<string, Raw>, base: Located): HTTPRoute {
  const ns = base.meta.namespace;
  const spec = r.object(raw.spec, 'spec', true) ?? {};
  r.unknownKeys(spec, 'spec', ROUTE_FIELDS.spec, ROUTES_MORE);
  const parentRefs: ParentRef[] = r.array(spec.parentRefs, 'spec.parentRefs').flatMap((p, i) => {
    const o = r.object(p, `spec.parentRefs[${i}]`);
    if (!o) return [];
    r.unknownKeys(o, `spec.parentRefs[${i}]`, ROUTE_FIELDS.parentRef, ROUTES_MORE);
    const ref: ParentRef = {
      group: r.string(o.group, `spec.parentRefs[${i}].group`) ?? 'gateway.networking.k8s.io',
      kind: r.string(o.kind, `spec.parentRefs[${i}].kind`) ?? 'Gateway',
      name: r.string(o.name, `spec.parentRefs[${i}].name`, true) ?? '',
      namespace: r.string(o.namespace, `spec.parentRefs[${i}].namespace`) ?? ns,
    };
    const section = r.string(o.sectionName, `spec.parentRefs[${i}].sectionName`);
    if (section !== undefined) ref.sectionName = section;
    return [ref];
  });
  const hostnames = r.array(spec.hostnames, 'spec.hostnames').flatMap((h, i) => {
    const s = r.string(h, `spec.hostnames[${i}]`);
    if (!s) return [];
    const hostname = s.toLowerCase();
    // The API server refuses any other value (Gateway API's Hostname pattern); read from a file, one with a port
    // or a scheme would never equal a request's Host (its port is dropped), and the route would match nothing.
    if (!HOSTNAME.test(hostname) || hostname.length > 253) {
      r.fail(`spec.hostnames[${i}]`, `must be a hostname such as api.example.com or *.example.com, without a scheme, port or path (Gateway API Hostname), got ${JSON.stringify(s)}`);
      return [];
    }
    return [hostname];
  });
  const rawRules = r.array(spec.rules, 'spec.rules');
  const rules: RouteRule[] = (rawRules.length === 0 ? [{}] : rawRules).map((rawRule, i) => readRule(r, rawRule, `spec.rules[${i}]`, ns));
  return { ...base, kind: 'HTTPRoute', parentRefs, hostnames, rules };
}

function readRule(r: FieldReader, raw: Raw, at: string, ns: string): RouteRule {
  const o = r.object(raw, at) ?? {};
  r.unknownKeys(o, at, ROUTE_FIELDS.rule, ROUTES_MORE);
  const rawMatches = r.array(o.matches, `${at}.matches`);
  const matches = (rawMatches.length === 0 ? [{}] : rawMatches).map((m, j) => readMatch(r, m, `${at}.matches[${j}]`));
  const rawBackendRefs = r.array(o.backendRefs, `${at}.backendRefs`);
  const backendRefs = rawBackendRefs.flatMap((b, j) => {
    const f = `${at}.backendRefs[${j}]`;
    const br = r.object(b, f);
    if (!br) return [];
    r.unknownKeys(br, f, ROUTE_FIELDS.backendRef, ROUTES_MORE);
    const ref: BackendRef = {
      group: r.string(br.group, `${f}.group`) ?? '',
      kind: r.string(br.kind, `${f}.kind`) ?? 'Service',
      name: r.string(br.name, `${f}.name`, true) ?? '',
      namespace: r.string(br.namespace, `${f}.namespace`) ?? ns,
      weight: r.integer(br.weight, `${f}.weight`, 0, 1_000_000) ?? 1,
    };
    if (ref.kind === 'InferencePool' && ref.group !== INFERENCE_POOL_GROUP && ref.group !== 'inference.networking.x-k8s.io') {
      r.fail(`${f}.group`, `an InferencePool backendRef needs group ${INFERENCE_POOL_GROUP}, got ${JSON.stringify(ref.group)}`);
    }
    return [ref];
  });
  const rule: RouteRule = { matches, backendRefs };
  const filters = [
    ...readFilters(o.filters, 'filters'),
    ...rawBackendRefs.flatMap((b, j) => (b !== null && typeof b === 'object' ? readFilters((b as Record<string, Raw>).filters, `backendRefs[${j}].filters`) : [])),
  ];
  if (filters.length > 0) rule.filters = filters;
  const name = r.string(o.name, `${at}.name`);
  if (name !== undefined) rule.name = name;
  return rule;
}

/**
 * The filters of a `filters` list at `at`, for the warning that they are not applied; read without judging the
 * list's shape, as infergate acts on none of it.
 */
function readFilters(raw: Raw, at: string): RouteFilter[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((f: Raw, k) => {
    const type = f !== null && typeof f === 'object' ? (f as Record<string, Raw>).type : undefined;
    return { type: typeof type === 'string' && type !== '' ? type : '(no type)', field: `${at}[${k}]` };
  });
}

function readMatch(r: FieldReader, raw: Raw, at: string): RouteMatch {
  const o = r.object(raw, at) ?? {};
  r.unknownKeys(o, at, ROUTE_FIELDS.match, MATCHES_MORE);
  const p = r.object(o.path, `${at}.path`);
  r.unknownKeys(p, `${at}.path`, ROUTE_FIELDS.path, MATCHES_MORE);
  const path: PathMatch = {
    type: r.oneOf(p?.type, `${at}.path.type`, ['Exact', 'PathPrefix', 'RegularExpression'] as const, 'PathPrefix'),
    value: r.string(p?.value, `${at}.path.value`) ?? '/',
  };
  if (path.type !== 'RegularExpression' && !path.value.startsWith('/')) r.fail(`${at}.path.value`, `must start with "/", got ${JSON.stringify(path.value)}`);
  if (path.type === 'RegularExpression') checkRegex(r, path.value, `${at}.path.value`);
  const match: RouteMatch = {
    path,
    headers: readValueMatches(r, o.headers, `${at}.headers`),
    queryParams: readValueMatches(r, o.queryParams, `${at}.queryParams`),
  };
  const method = r.string(o.method, `${at}.method`);
  if (method !== undefined) {
    if (!(METHODS as readonly string[]).includes(method)) r.fail(`${at}.method`, `must be one of ${METHODS.join(', ')}, got ${JSON.stringify(method)}`);
    else match.method = method;
  }
  return match;
}

function readValueMatches(r: FieldReader, raw: Raw, at: string): ValueMatch[] {
  return r.array(raw, at).flatMap((h, k) => {
    const o = r.object(h, `${at}[${k}]`);
    if (!o) return [];
    r.unknownKeys(o, `${at}[${k}]`, ROUTE_FIELDS.valueMatch, MATCHES_MORE);
    const m: ValueMatch = {
      type: r.oneOf(o.type, `${at}[${k}].type`, ['Exact', 'RegularExpression'] as const, 'Exact'),
      name: r.string(o.name, `${at}[${k}].name`, true) ?? '',
      value: r.string(o.value, `${at}[${k}].value`, true) ?? '',
    };
    if (m.type === 'RegularExpression') checkRegex(r, m.value, `${at}[${k}].value`);
    return [m];
  });
}

function checkRegex(r: FieldReader, value: string, field: string): void {
  try {
    anchoredRegex(value);
  } catch (e) {
    // V8 names the pattern as compiled (`/^(?:[a)$/`); the user wrote `[a`, which the message gives instead.
    const why = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    r.fail(field, `is not a valid regular expression (${why}), got ${JSON.stringify(value)}`);
  }
}
