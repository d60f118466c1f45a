/** HTTPRoute hostname matching: precise names and `*.` wildcards against the request's Host. */

/**
 * The request host as routes compare it: lower-cased, port removed. The Gateway API says implementations
 * MUST ignore any port in the Host header. Bracketed IPv6 literals keep their brackets.
 */
export function normalizeHost(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  // More than one colon without brackets is a bare IPv6 address, not host:port.
  if (colon === -1 || h.indexOf(':', colon + 1) !== -1) return h;
  return h.slice(0, colon);
}

/** For `*.example.com` returns `example.com`; undefined for a precise hostname. */
export function wildcardSuffix(pattern: string): string | undefined {
  return pattern.startsWith('*.') ? pattern.slice(2) : undefined;
}

/** Whether one route hostname (precise or wildcard, already lower-case) accepts a normalized host. */
export function hostnameMatches(pattern: string, host: string): boolean {
  const suffix = wildcardSuffix(pattern);
  if (suffix === undefined) return pattern === host;
  return host.length > suffix.length + 1 && host.endsWith('.' + suffix) && host.charCodeAt(0) !== 0x2e /* "." */;
}

/**
 * Whether a route's hostnames accept the request host (normalized, or undefined when the request has none).
 * A route without hostnames accepts every request; one with hostnames needs a Host that matches one.
 */
export function routeAcceptsHost(hostnames: readonly string[], host: string | undefined): boolean {
  if (hostnames.length === 0) return true;
  if (host === undefined) return false;
  return hostnames.some((p) => hostnameMatches(p.toLowerCase(), host));
}
