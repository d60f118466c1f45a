/**
 * Recognises an endpoint that answered with an interim status the request did not ask for, which undici, the
 * gateway's HTTP client, refuses by closing the connection: `100 Continue` (the gateway never relays `Expect`)
 * or `101 Switching Protocols` (it never asks for an upgrade).
 */

/**
 * undici's messages for those two, on its SocketError (UND_ERR_SOCKET). Within an attempt `bad response` is only
 * ever the 100: undici's other use of it is for bytes that come while no request is running, which fail none.
 */
const UNASKED: ReadonlyMap<string, string> = new Map([
  ['bad response', '100 Continue'],
  ['bad upgrade', '101 Switching Protocols'],
]);

/** The status an endpoint answered that the request did not ask for; undefined for any other failure. */
export function unaskedInterimStatus(err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e?.code !== 'UND_ERR_SOCKET' || typeof e.message !== 'string') return undefined;
  return UNASKED.get(e.message);
}

/** Why a request failed, in words, when the endpoint answered such a status; undefined for any other failure. */
export function unaskedInterim(err: unknown): string | undefined {
  const status = unaskedInterimStatus(err);
  if (status === undefined) return undefined;
  const asked = status === '100 Continue' ? 'no Expect: 100-continue' : 'no Upgrade';
  return (
    `the endpoint answered ${status} to a request that sent ${asked}, and the gateway's HTTP client closes the connection on it; ` +
    `the model server, or a proxy in front of it, must send it only when the request asks for it (RFC 9110 §10.1.1, §7.8)`
  );
}
