/** Headers that describe one connection, not the message, and so are never forwarded (RFC 9110 §7.6.1). */

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);

/** True for a lower-cased header name that must not cross the proxy. */
export function isHopByHop(lowerName: string, connectionTokens: ReadonlySet<string>): boolean {
  return HOP_BY_HOP.has(lowerName) || connectionTokens.has(lowerName);
}

/** Names listed in a `Connection` header are hop-by-hop too. */
export function connectionTokens(value: string | string[] | undefined): Set<string> {
  const out = new Set<string>();
  if (value === undefined) return out;
  for (const v of Array.isArray(value) ? value : [value]) for (const t of v.split(',')) if (t.trim()) out.add(t.trim().toLowerCase());
  return out;
}
