/**
 * Recognises an endpoint that speaks another HTTP version than its pool's `appProtocol` says, from the error
 * undici gives, and says so in words that name the protocol and the field to change.
 */

/** HTTP/2 frame types a server sends first on a connection (RFC 9113 §3.4, §6.5, §6.8). */
const SETTINGS = 0x04;
const GOAWAY = 0x07;

/**
 * Why a request to `address` failed, when the cause is a protocol mismatch; undefined for any other failure.
 * `h2c`: whether the gateway spoke h2c to it (its pool's `appProtocol: kubernetes.io/h2c`).
 */
export function protocolMismatch(err: unknown, h2c: boolean): string | undefined {
  const e = err as { name?: unknown; code?: unknown; data?: unknown; message?: unknown } | null;
  if (!e) return undefined;
  if (!h2c) {
    // An h2c-only server answers an HTTP/1.1 request with its SETTINGS frame (or a GOAWAY), where undici's
    // parser expects a status line.
    if (e.name !== 'HTTPParserError' || !looksLikeHttp2Frame(e.data)) return undefined;
    return (
      'the endpoint answers in HTTP/2 (cleartext, h2c) only, and its InferencePool has spec.appProtocol http ' +
      '(the default), so the gateway speaks HTTP/1.1 to it; set spec.appProtocol: kubernetes.io/h2c on the InferencePool'
    );
  }
  // Sent the HTTP/2 preface, the gateway got bytes that are no HTTP/2 frame: nghttp2 reports a protocol error
  // for the session. An HTTP/1.1 server (vLLM's uvicorn, node:http) answers the preface with `400 Bad Request`.
  if (e.code === 'ERR_HTTP2_ERROR') {
    return (
      `the endpoint does not speak HTTP/2: its InferencePool has spec.appProtocol kubernetes.io/h2c, so the gateway ` +
      `opens cleartext HTTP/2 connections with prior knowledge, and the endpoint answered with something other than ` +
      `HTTP/2 frames (${String(e.code ?? e.name)}: ${String(e.message)}), as an HTTP/1.1-only server such as vLLM does; ` +
      `remove spec.appProtocol from the InferencePool (or set it to http), or serve h2c on the pool's target ports`
    );
  }
  return undefined;
}

/** A 9-byte HTTP/2 frame header of a SETTINGS or GOAWAY frame on stream 0. */
function looksLikeHttp2Frame(data: unknown): boolean {
  const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.isBuffer(data) ? data : undefined;
  if (!b || b.length < 9) return false;
  const type = b[3];
  return (type === SETTINGS || type === GOAWAY) && (b.readUInt32BE(5) & 0x7fffffff) === 0;
}
