/** HTTP/2 cleartext with prior knowledge (h2c), spoken to pools whose `spec.appProtocol` is `kubernetes.io/h2c`. */
import { Pool, type Dispatcher } from 'undici';
import type { InferencePool } from '../api/inference-pool.js';

/** InferencePool v1's value for cleartext HTTP/2 (Kubernetes' `appProtocol` convention, KEP-3726). */
export const H2C = 'kubernetes.io/h2c';

export function isH2c(appProtocol: InferencePool['appProtocol']): boolean {
  return appProtocol === H2C;
}

/**
 * Streams one h2c connection carries at once. Node's HTTP/2 server advertises 100 by default; a server that
 * advertises fewer in its SETTINGS holds the rest back until a stream ends (nghttp2 queues them).
 */
export const H2C_MAX_CONCURRENT_STREAMS = 100;

/**
 * What makes an undici Pool or Agent speak h2c. undici 7 reads `useH2c` only from the `connect` options
 * when a Pool builds its own connector (a top-level `useH2c` reaches a Client only); with it the socket is
 * handed to undici's HTTP/2 session as if ALPN had chosen `h2`, so the client sends the HTTP/2 preface at once.
 * `pipelining` lets one connection carry several streams: undici's default of 1 would open a connection per
 * request in flight, as HTTP/1.1 does.
 */
export function h2cOptions(connectTimeoutMs: number | undefined): { connect: Record<string, unknown>; pipelining: number; maxConcurrentStreams: number } {
  const connect: Record<string, unknown> = { useH2c: true };
  if (connectTimeoutMs !== undefined) connect.timeout = connectTimeoutMs;
  return { connect, pipelining: H2C_MAX_CONCURRENT_STREAMS, maxConcurrentStreams: H2C_MAX_CONCURRENT_STREAMS };
}

/**
 * A keep-alive Pool of h2c connections to one endpoint. Every request is marked idempotent for undici, so
 * POSTs share a connection: undici keeps a non-idempotent request alone on an HTTP/2 connection (it could not
 * retry it after another stream broke the session). The gateway retries nothing itself once an answer started
 * and fails over before one exactly as over HTTP/1.1 (src/proxy/forward.ts), so multiplexing changes no
 * outcome a client sees. A subclass rather than an interceptor: `compose` would wrap every handler twice.
 */
export class H2cPool extends Pool {
  constructor(origin: string, connectTimeoutMs: number, keepAliveTimeoutMs: number) {
    super(origin, { ...h2cOptions(connectTimeoutMs), keepAliveTimeout: keepAliveTimeoutMs });
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return super.dispatch({ ...opts, idempotent: true }, handler);
  }
}
