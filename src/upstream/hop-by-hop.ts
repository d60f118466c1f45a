/** Headers that describe one connection, not the message, and so are never forwarded (RFC 9110 §7.6.1). */

/**
 * `http2-settings` belongs to an HTTP/1.1 `Upgrade: h2c` (RFC 7540 §3.2.1) and is connection-specific: Node's
 * HTTP/2 client throws on it, which, sent by a client to an h2c pool, stopped the gateway (thrown from undici's
 * socket callback, where nothing catches it).
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization', 'http2-settings']);

const NONE: ReadonlySet<string> = new Set();
const KEEP_ALIVE: ReadonlySet<string> = new Set(['keep-alive']);
const CLOSE: ReadonlySet<string> = new Set(['close']);

/** True for a lower-cased header name that must not cross the proxy. */
export function isHopByHop(lowerName: string, connectionTokens: ReadonlySet<string>): boolean {
  return HOP_BY_HOP.has(lowerName) || connectionTokens.has(lowerName);
}

/** Names listed in a `Connection` header are hop-by-hop too. */
export function connectionTokens(value: string | string[] | undefined): ReadonlySet<string> {
  // Most messages carry none or only `keep-alive`: no set is built for them.
  if (value === undefined) return NONE;
  if (value === 'keep-alive') return KEEP_ALIVE;
  if (value === 'close') return CLOSE;
  const out = new Set<string>();
  for (const v of Array.isArray(value) ? value : [value]) for (const t of v.split(',')) if (t.trim()) out.add(t.trim().toLowerCase());
  return out;
}
