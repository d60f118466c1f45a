/** The upstream's response headers as the client gets them: hop-by-hop ones, the gateway's own and CORS ones dropped, in one flat list for writeHead. */
import { DESTINATION_ENDPOINT_SERVED_HEADER } from '../bbr/routing-headers.js';
import { connectionTokens, isHopByHop } from './hop-by-hop.js';

/**
 * Headers the gateway sets on every answer itself, so a pod's copy is dropped: vLLM started with
 * --enable-request-id-headers (and most FastAPI request-id middlewares) echoes `X-Request-Id`, and a pod behind
 * another gateway may carry `x-gateway-destination-endpoint-served`. Kept, the client got each twice, which
 * fetch joins into one value: the openai SDKs' `request_id` read `abc, abc`.
 */
const GATEWAY_SET = new Set(['x-request-id', DESTINATION_ENDPOINT_SERVED_HEADER]);

/**
 * A pod's CORS headers (vLLM allows every origin by default) are dropped: which pages may call is the gateway's
 * policy (`--allowed-origins`, src/proxy/cors.ts), which answers the preflights; a pod's `*` would open the fleet
 * to every page behind it, or repeat the gateway's header, which browsers refuse.
 */
const CORS_PREFIX = 'access-control-';

export interface PassedHeaders {
  /** `[name, value, name, value, ...]` with lower-case names, as `res.writeHead` takes it (duplicates kept, e.g. Set-Cookie). */
  readonly list: string[];
  /** The answer's `Content-Type`, if any. */
  readonly contentType: string | undefined;
}

/**
 * Reads undici's raw `[name, value, ...]` header list once, leaving out hop-by-hop headers and those the gateway
 * sets itself (`x-request-id`, `x-gateway-destination-endpoint-served`). Values are decoded as latin1, the way Node writes
 * them back, so bytes outside ASCII pass through unchanged.
 */
export function passResponseHeaders(raw: readonly Buffer[]): PassedHeaders {
  const list: string[] = [];
  let connection: string | undefined;
  let contentType: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    if (name === 'connection') connection = connection === undefined ? value : `${connection}, ${value}`;
    else if (name === 'content-type') contentType ??= value;
    list.push(name, value);
  }
  const tokens = connectionTokens(connection);
  let kept = 0;
  for (let i = 0; i < list.length; i += 2) {
    if (isHopByHop(list[i]!, tokens) || GATEWAY_SET.has(list[i]!) || list[i]!.startsWith(CORS_PREFIX)) continue;
    list[kept++] = list[i]!;
    list[kept++] = list[i + 1]!;
  }
  list.length = kept;
  return { list, contentType };
}
