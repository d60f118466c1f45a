/** What an upstream error says: whether the request may go to another endpoint, and what it tells about this one. */
import { maxHeaderSize } from 'node:http';
import { unaskedInterimStatus } from './unasked-interim.js';

/**
 * - `connect`: no connection was made (refused, unreachable, connect timeout);
 * - `reset`: the connection broke before the answer (a keep-alive socket the server closed, a pod draining);
 * - `timeout`: the endpoint took longer than its header or idle timeout;
 * - `closed`: the endpoint's pool was closed by a config reload between the pick and the send;
 * - `stale`: a keep-alive connection that had carried earlier answers was closed by the endpoint as the request
 *   went out on it (uvicorn, so vLLM, closes connections idle for 5 s; undici keeps them 30 s unless told): the
 *   endpoint never saw the request, and may take it on a new connection;
 * - `other`: anything else (an answer that is not HTTP, ...), which the request may have caused.
 */
export type FailureKind = 'connect' | 'reset' | 'timeout' | 'closed' | 'stale' | 'other';

const KINDS: ReadonlyMap<string, FailureKind> = new Map([
  ['ECONNREFUSED', 'connect'],
  ['EHOSTUNREACH', 'connect'],
  ['ENETUNREACH', 'connect'],
  ['ETIMEDOUT', 'connect'],
  ['UND_ERR_CONNECT_TIMEOUT', 'connect'],
  ['ECONNRESET', 'reset'],
  ['EPIPE', 'reset'],
  // "other side closed": a keep-alive socket the server closed (a pod draining on SIGTERM) before it answered.
  ['UND_ERR_SOCKET', 'reset'],
  // HTTP/2 (h2c pools): the server reset the stream (RST_STREAM; REFUSED_STREAM from a draining server
  // guarantees it was not processed, RFC 9113 §8.7), the session broke or went away (GOAWAY), or the stream
  // closed without an answer: the counterparts of a reset HTTP/1.1 connection. ERR_HTTP2_ERROR (bytes that are
  // not HTTP/2) stays `other`: another endpoint speaking the same wrong protocol would fail alike.
  ['ERR_HTTP2_STREAM_ERROR', 'reset'],
  ['ERR_HTTP2_STREAM_CANCEL', 'reset'],
  ['ERR_HTTP2_SESSION_ERROR', 'reset'],
  ['ERR_HTTP2_GOAWAY_SESSION', 'reset'],
  ['ERR_HTTP2_INVALID_SESSION', 'reset'],
  ['UND_ERR_INFO', 'reset'],
  ['UND_ERR_HEADERS_TIMEOUT', 'timeout'],
  ['UND_ERR_BODY_TIMEOUT', 'timeout'],
  ['UND_ERR_CLOSED', 'closed'],
  ['UND_ERR_DESTROYED', 'closed'],
]);

export function errorCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  if (e && typeof e.code === 'string') return e.code;
  if (e?.cause && typeof e.cause.code === 'string') return e.cause.code;
  return (err as Error | null)?.name ?? 'Error';
}

/**
 * `responseStarted`: bytes of this request's answer had arrived (undici's onResponseStarted) before the
 * connection closed. Then the endpoint saw the request, and its close is no stale keep-alive connection.
 */
export function failureKind(err: unknown, responseStarted = false): FailureKind {
  // An interim status nobody asked for is an answer, not a broken connection: the endpoint got the request and
  // answers it wrong, so another endpoint is not tried and this one is not held out as unreachable.
  if (unaskedInterimStatus(err) !== undefined) return 'other';
  // A pod that dies part way through its status line or headers read them too: the bytes counted as "earlier
  // answers" were this one's, so it is a reset (another endpoint, counted against this one), not resent here.
  if (!responseStarted && closedWhenReused(err)) return 'stale';
  return KINDS.get(errorCode(err)) ?? 'other';
}

/**
 * undici's "other side closed" (a FIN while the request waited for its answer) on a connection that had already
 * read bytes: earlier answers, since this one got none (its headers would have made it answered).
 */
function closedWhenReused(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; socket?: { bytesRead?: unknown } } | null;
  return e?.code === 'UND_ERR_SOCKET' && e.message === 'other side closed' && typeof e.socket?.bytesRead === 'number' && e.socket.bytesRead > 0;
}

/**
 * Before any response byte arrived, every kind but `other` means nothing reached the client and the model
 * server either never got the request or gave up on it with the connection undici closed, so another
 * endpoint may take it.
 */
export function isRetryable(kind: FailureKind): boolean {
  return kind !== 'other';
}

/** Connection-level failures hold the endpoint out for a short backoff (src/epp/datastore/endpoint.ts). */
export function isConnectionFailure(kind: FailureKind): boolean {
  return kind === 'connect' || kind === 'reset';
}

/** What outlier detection counts: every failure of the endpoint, not a reload closing its pool nor an idle connection it closed. */
export function countsAgainstEndpoint(kind: FailureKind): boolean {
  return kind !== 'closed' && kind !== 'stale';
}

/**
 * undici's "Headers Overflow Error" in words: the answer's headers passed the size undici reads (Node's
 * `--max-http-header-size`, 16 KiB by default), which names neither the limit nor a fix.
 */
export function headersOverflow(err: unknown): string | undefined {
  if (errorCode(err) !== 'UND_ERR_HEADERS_OVERFLOW') return undefined;
  return `its response headers are larger than the gateway reads (${maxHeaderSize} bytes for the status line and all headers); have the pod send fewer or smaller headers, or raise the limit with NODE_OPTIONS=--max-http-header-size=<bytes> on the gateway`;
}
