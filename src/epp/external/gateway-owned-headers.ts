/**
 * Headers an external endpoint picker may not set on the client's answer, whether it changes the endpoint's
 * response headers or answers in their place: the answer's framing and connection are the gateway's (a changed
 * length would cut or hang the body; hop-by-hop headers describe the picker's connection, not the client's),
 * and so is the request id every answer carries.
 */
export const GATEWAY_OWNED_HEADERS: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'host', 'x-request-id']);
