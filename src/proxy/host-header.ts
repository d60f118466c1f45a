/** The request's Host as RFC 9112 §3.2 requires it: a 400 for a value that is no host, as for a missing one. */
import { GatewayError, shown } from '../errors.js';

/**
 * RFC 3986's `host [":" port]`: an IP literal in brackets or a reg-name (unreserved, percent-encoded and
 * sub-delims characters, an IPv4 address among them), empty included (RFC 9110 §7.2 has a client send an empty
 * Host when the target has no authority).
 */
const VALID_HOST = /^(?:\[[0-9A-Za-z:._~%!$&'()*+,;=-]*\]|[0-9A-Za-z._~%!$&'()*+,;=-]*)(?::[0-9]*)?$/;

/**
 * The 400 for a Host whose value is not a host (`a b`, `x/y`, `a@b`), which RFC 9112 §3.2 has a server refuse;
 * undefined for a valid one. Forwarded, such a value went on as the pod's `Host` (as `:authority` to an h2c pool,
 * whose server reset the stream: a 502 counted against the pod, which three such requests ejected).
 */
export function invalidHost(host: string): GatewayError | undefined {
  if (VALID_HOST.test(host)) return undefined;
  return new GatewayError('bad_request', `Host: ${shown(host)} is not a host name, address or [IPv6 address] with an optional :port; send Host with the name the gateway is reached by (RFC 9112 §3.2)`);
}
