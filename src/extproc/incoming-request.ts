/** The request as planRoute takes it, from the headers Envoy sends (pseudo-headers included) and the collected body. */
import { isReservedRoutingHeader } from '../bbr/routing-headers.js';
import type { JsonBody } from '../bbr/json-body-parser.js';
import type { IncomingRequest } from '../plan/plan-request.js';

/**
 * `:method`, `:path` (split into path and query) and `:authority` become the request line; pseudo-headers
 * and the routing headers only the gateway may set are left out of `headers`, as the standalone gateway
 * strips them: planRoute derives the routing headers again from the body.
 */
export function incomingRequest(headers: ReadonlyMap<string, string>, body: Buffer | undefined, parsedBody?: () => JsonBody | undefined): IncomingRequest {
  const url = headers.get(':path') ?? '/';
  const q = url.indexOf('?');
  const plain = new Map<string, string>();
  for (const [name, value] of headers) if (!name.startsWith(':') && !isReservedRoutingHeader(name)) plain.set(name, value);
  const host = headers.get(':authority') ?? headers.get('host');
  const requestId = headers.get('x-request-id');
  return {
    method: headers.get(':method') ?? 'GET',
    path: q < 0 ? url : url.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
    headers: plain,
    body,
    ...(parsedBody ? { parsedBody } : {}),
    ...(host !== undefined ? { host } : {}),
    ...(requestId !== undefined ? { requestId } : {}),
  };
}

/** Reserved routing headers the client sent that the processor does not set itself: they are removed. */
export function spoofedHeaders(headers: ReadonlyMap<string, string>, set: Readonly<Record<string, string>>, reserved: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const name of headers.keys()) if (reserved(name) && !(name in set)) out.push(name);
  return out;
}
