/** `session-affinity-scorer` (llm-d): sends a session's requests back to the endpoint that served it before. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { PluginFactory } from '../framework/registry.js';
import type { ResponseHeaders, SchedulingContext, Scorer } from '../framework/plugin.js';
import { ScoreBuffer } from '../framework/score-buffer.js';

export const SESSION_AFFINITY_SCORER_TYPE = 'session-affinity-scorer';
export const DEFAULT_SESSION_HEADER = 'x-session-token';

/**
 * The token a client echoes: base64 of `<namespace>/<pod>:<port>`. llm-d encodes `<namespace>/<pod>` only;
 * the port keeps data-parallel ranks (one pod, several target ports, separate KV caches) apart. Tokens in
 * llm-d's form are still read, and then match every port of the pod.
 */
export function sessionToken(ep: Endpoint): string {
  return Buffer.from(`${ep.pod.meta.namespace}/${ep.pod.meta.name}:${ep.port}`).toString('base64');
}

interface SessionTarget {
  namespace: string;
  pod: string;
  port: number | undefined;
}

/** undefined for a missing or undecodable token (llm-d logs and ignores those too). */
export function parseSessionToken(token: string | undefined): SessionTarget | undefined {
  if (!token || !/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return undefined;
  const text = Buffer.from(token, 'base64').toString('utf8');
  const m = /^([^/]+)\/([^/:]+)(?::(\d+))?$/.exec(text);
  if (!m) return undefined;
  return { namespace: m[1] ?? '', pod: m[2] ?? '', port: m[3] === undefined ? undefined : Number(m[3]) };
}

/**
 * Scores 1 for the endpoint the request's session token names and 0 for the others (all 0 without a token,
 * so it does not sway). As a ResponseHeaders hook it writes the served endpoint's token on every response.
 */
export class SessionAffinityScorer implements Scorer, ResponseHeaders {
  readonly type = SESSION_AFFINITY_SCORER_TYPE;
  readonly name: string;
  readonly #scores = new ScoreBuffer();
  readonly headerName: string;

  constructor(name: string = SESSION_AFFINITY_SCORER_TYPE, headerName = DEFAULT_SESSION_HEADER) {
    this.name = name;
    this.headerName = headerName.toLowerCase();
  }

  score(ctx: SchedulingContext, endpoints: readonly Endpoint[]): Float64Array {
    const out = this.#scores.zeros(endpoints.length);
    const t = parseSessionToken(ctx.request.header(this.headerName));
    if (!t) return out;
    for (let i = 0; i < endpoints.length; i++) {
      const ep = endpoints[i] as Endpoint;
      const meta = ep.pod.meta;
      if (meta.name === t.pod && meta.namespace === t.namespace && (t.port === undefined || t.port === ep.port)) out[i] = 1;
    }
    return out;
  }

  responseHeaders(_ctx: SchedulingContext, served: Endpoint, set: (name: string, value: string) => void): void {
    set(this.headerName, sessionToken(served));
  }
}

/**
 * Parameters, by current llm-d's names (router PR #2238): `strategy` (only its default, `encoded_endpoint_header`; the
 * server-side `session_id` binding is not implemented) and `encodedEndpointHeaderConfig.header` (default
 * `x-session-token`). Older llm-d's `headerName`, and `algorithm` (infergate's earlier name of `strategy`), still
 * load. `profileName` (P/D: which profile's pick the token names; here always the served, decode, endpoint) and `sessionIdConfig` are accepted and ignored.
 */
export const sessionAffinityScorerFactory: PluginFactory = (name, _p, r) => {
  const strategies = ['encoded_endpoint_header'] as const;
  const why = "llm-d's server-side session_id binding is not implemented; use encoded_endpoint_header";
  if (r.has('strategy') && r.raw('strategy') === 'session_id') r.fail('strategy', `session_id is not supported: ${why}`);
  r.oneOf('strategy', 'encoded_endpoint_header', strategies);
  r.oneOf('algorithm', 'encoded_endpoint_header', strategies);
  const encoded = r.child('encodedEndpointHeaderConfig');
  const key = encoded.has('header') ? 'encodedEndpointHeaderConfig.header' : 'headerName';
  const header = encoded.has('header') ? encoded.string('header', DEFAULT_SESSION_HEADER) : r.string('headerName', DEFAULT_SESSION_HEADER);
  if (encoded.has('header') && r.has('headerName')) r.warn('parameters.headerName is ignored: encodedEndpointHeaderConfig.header is set');
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(header)) r.fail(key, `must be an HTTP header name, got ${JSON.stringify(header)}`);
  r.ignored('profileName', 'the token names the endpoint that served the client (the decode pod under P/D)');
  r.ignored('sessionIdConfig', 'only the encoded_endpoint_header strategy is implemented');
  return new SessionAffinityScorer(name, header);
};
