/** Which upstream errors mean "the request never reached a server", so it is safe to try another endpoint. */

const RETRYABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  // "other side closed": a keep-alive socket the server closed (a pod draining on SIGTERM) before it answered.
  'UND_ERR_SOCKET',
  // The endpoint's pool was closed by a config reload between the pick and the send.
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

export function errorCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  if (e && typeof e.code === 'string') return e.code;
  if (e?.cause && typeof e.cause.code === 'string') return e.cause.code;
  return (err as Error | null)?.name ?? 'Error';
}

/** Only called for errors raised before any response byte arrived. */
export function isConnectFailure(err: unknown): boolean {
  return RETRYABLE.has(errorCode(err));
}
