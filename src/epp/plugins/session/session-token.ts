/** llm-d's encoded session token: base64 of the endpoint that served a session, written on the response and echoed back. */
import type { Endpoint } from '../../datastore/endpoint.js';

/** llm-d's default request and response header of the `encoded_endpoint_header` strategy. */
export const DEFAULT_SESSION_HEADER = 'x-session-token';

/**
 * The token a client echoes: base64 of `<namespace>/<pod>:<port>`. llm-d encodes `<namespace>/<pod>` only;
 * the port keeps data-parallel ranks (one pod, several target ports, separate KV caches) apart. Tokens in
 * llm-d's form are still read, and then match every port of the pod.
 */
export function sessionToken(ep: Endpoint): string {
  return Buffer.from(`${ep.pod.meta.namespace}/${ep.pod.meta.name}:${ep.port}`).toString('base64');
}

export interface SessionTarget {
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

/** Whether the token names `ep`: its pod, and its port when the token has one. */
export function tokenNames(t: SessionTarget, ep: Endpoint): boolean {
  const meta = ep.pod.meta;
  return meta.name === t.pod && meta.namespace === t.namespace && (t.port === undefined || t.port === ep.port);
}
