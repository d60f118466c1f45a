/** Headers that describe one connection, not the message, and so are never forwarded (RFC 9110 §7.6.1). */

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);

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
