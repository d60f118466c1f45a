/** CORS at the front door: a browser's preflight answered by the gateway's own policy (`--allowed-origins` and friends), off unless set. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError, shown } from '../errors.js';
import { sendError } from './send-error.js';

/**
 * Who may call the gateway from a web page, as vLLM's flags of the same names say it (`["*"]` is any). The
 * gateway answers preflights itself (one names no model, so no pool could be picked for it), and its answers
 * carry `access-control-allow-origin` for an allowed origin; a pod's own CORS headers never reach the client.
 */
export interface CorsPolicy {
  readonly origins: readonly string[];
  readonly methods: readonly string[];
  readonly headers: readonly string[];
  /** `access-control-allow-credentials: true` (cookies, HTTP auth): the origin is then echoed, never `*`. */
  readonly credentials: boolean;
}

/** How long a browser may keep a preflight's answer (seconds), as Starlette's (so vLLM's) default. */
const MAX_AGE_SECONDS = '600';
/** What `["*"]` methods allow, as Starlette lists them. */
const ALL_METHODS = 'DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT';
/**
 * The gateway's own answer headers a page's script may read (`access-control-expose-headers`): a browser hides every
 * response header but the CORS-safelisted ones otherwise, so an app could not see its tenant's `x-ratelimit-*` or
 * how long to wait (`retry-after`), nor quote the request id when it reports a failure.
 */
const EXPOSED =
  'x-request-id, x-gateway-destination-endpoint-served, x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests, x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens, retry-after, x-should-retry, x-session-token';

/** Headers a browser may always send (the Fetch standard's CORS-safelisted request headers). */
const SAFELISTED = new Set(['accept', 'accept-language', 'content-language', 'content-type']);

/** Whether `req` is a CORS preflight: OPTIONS with an Origin and the method the page means to use. */
export function isPreflight(req: IncomingMessage): boolean {
  return req.method === 'OPTIONS' && req.headers.origin !== undefined && req.headers['access-control-request-method'] !== undefined;
}

/**
 * Answers a preflight: 204 with the policy's headers when the origin, method and headers are allowed, else
 * 403 cors_not_allowed saying what is not (a browser reports only "CORS error"; the message is for whoever
 * looks at the preflight). Without a policy every preflight gets that 403, naming the flag.
 */
export function answerPreflight(policy: CorsPolicy | undefined, req: IncomingMessage, res: ServerResponse, id: Record<string, string>): void {
  const origin = req.headers.origin!;
  const method = String(req.headers['access-control-request-method']).trim();
  const asked = listOf(req.headers['access-control-request-headers']);
  const refusal = policy === undefined ? notServed(origin) : disallowed(policy, origin, method, asked);
  if (refusal !== undefined) return sendError(res, refusal, id);
  const headers: Record<string, string> = {
    ...id,
    ...originHeaders(policy!, origin),
    'access-control-allow-methods': policy!.methods.includes('*') ? ALL_METHODS : policy!.methods.join(', '),
    'access-control-max-age': MAX_AGE_SECONDS,
  };
  if (asked.length > 0) headers['access-control-allow-headers'] = policy!.headers.includes('*') ? asked.join(', ') : allowedHeadersOf(policy!).list;
  res.writeHead(204, headers);
  res.end();
}

/**
 * For a request from a page (it has an Origin) that is not a preflight: the allowed origin's headers go on
 * whatever answers it, the gateway's own or a pod's. Set ahead, not passed to writeHead: this runs only for
 * browsers' requests with CORS configured.
 */
export function allowOrigin(policy: CorsPolicy, origin: string, res: ServerResponse): void {
  if (!originAllowed(policy, origin)) return;
  for (const [name, value] of Object.entries(originHeaders(policy, origin))) res.setHeader(name, value);
  res.setHeader('access-control-expose-headers', EXPOSED);
}

/**
 * After an answer allowed to a page got its headers from the plugins' response hooks (`list[from..]`, name then
 * value): those names are exposed too, so a session token under a configured name (`encodedEndpointHeaderConfig`)
 * is as readable as the default `x-session-token`. Does nothing when the answer exposes nothing (no CORS).
 */
export function exposeAdded(res: ServerResponse, list: readonly string[], from: number): void {
  const exposed = res.getHeader('access-control-expose-headers');
  if (typeof exposed !== 'string') return;
  const names = exposed.split(', ');
  for (let i = from; i < list.length; i += 2) {
    const name = (list[i] as string).toLowerCase();
    if (!names.includes(name)) names.push(name);
  }
  res.setHeader('access-control-expose-headers', names.join(', '));
}

function originAllowed(policy: CorsPolicy, origin: string): boolean {
  return policy.origins.includes('*') || policy.origins.includes(origin);
}

/** `*` when any origin may call without credentials; else the origin itself, varying the answer by it. */
function originHeaders(policy: CorsPolicy, origin: string): Record<string, string> {
  const any = policy.origins.includes('*') && !policy.credentials;
  return {
    'access-control-allow-origin': any ? '*' : origin,
    ...(any ? {} : { vary: 'Origin' }),
    ...(policy.credentials ? { 'access-control-allow-credentials': 'true' } : {}),
  };
}

function disallowed(policy: CorsPolicy, origin: string, method: string, asked: readonly string[]): GatewayError | undefined {
  if (!originAllowed(policy, origin)) return refusal(`origin ${shown(origin)} is not one --allowed-origins names (${policy.origins.join(', ')}); add it to --allowed-origins`);
  if (!policy.methods.includes('*') && !policy.methods.includes(method)) return refusal(`method ${shown(method)} is not one --allowed-methods names (${policy.methods.join(', ')}); add it to --allowed-methods`);
  if (policy.headers.includes('*')) return undefined;
  const { names } = allowedHeadersOf(policy);
  const missing = asked.filter((h) => !names.has(h));
  if (missing.length > 0) return refusal(`header(s) ${shown(missing.join(', '))} are not ones --allowed-headers names (${policy.headers.join(', ') || 'none'}); add them to --allowed-headers`);
  return undefined;
}

/** The headers a policy lets a page send: lower-cased for comparing, and as `access-control-allow-headers` lists them. */
interface AllowedHeaders {
  readonly names: ReadonlySet<string>;
  readonly list: string;
}

/** Built once per policy (its fields never change), not per preflight. */
const ALLOWED_HEADERS = new WeakMap<CorsPolicy, AllowedHeaders>();

function allowedHeadersOf(policy: CorsPolicy): AllowedHeaders {
  let a = ALLOWED_HEADERS.get(policy);
  if (a === undefined) {
    a = { names: new Set([...SAFELISTED, ...policy.headers.map((h) => h.toLowerCase())]), list: [...SAFELISTED, ...policy.headers].join(', ') };
    ALLOWED_HEADERS.set(policy, a);
  }
  return a;
}

function notServed(origin: string): GatewayError {
  return refusal(`the gateway answers no cross-origin requests from web pages (origin ${shown(origin)}): CORS is off. Start it with --allowed-origins naming the page's origin (or '["*"]' for any, vLLM's default)`);
}

function refusal(why: string): GatewayError {
  return new GatewayError('cors_not_allowed', `CORS preflight refused: ${why}`);
}

/** A comma-separated header list, lower-cased, without empty items. */
function listOf(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}
