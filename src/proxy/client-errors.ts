/** Node's own early rejections (malformed request, headers too large, too slow) answered in OpenAI's error shape, not bare 400/408/431. */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, maxHeaderSize, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { formatDuration } from '../upstream/duration.js';
import { GatewayError } from '../errors.js';
import { newRequestRecord, type RequestObserver } from '../observability/request-record.js';
import { recordClientTraceContext } from '../plan/record-plan.js';
import { sendError } from './send-error.js';
import { lingeringClose } from './lingering-close.js';
import { H2_NOT_SERVED, h2Refusal } from './h2-refusal.js';

/** Node's error from its HTTP parser (`code` HPE_*, `reason`) or its request timeouts. */
export interface ClientError extends Error {
  code?: string;
  reason?: string;
  /** The bytes the parser failed on (parse errors only): the request line, when it arrived, is read from it. */
  rawPacket?: Buffer;
}

/**
 * Node failed a request whose handler is reading its body (a malformed chunk, --request-body-timeout): the
 * handler answers it, with the request's id and record, and closes the connection, since the rest of the
 * body cannot be read past.
 */
export class UnreadableRequest extends GatewayError {}

/** The request timeouts in force, for the 408's message. */
export interface RequestTimeouts {
  requestHeadersTimeoutMs: number;
  requestBodyTimeoutMs: number;
}

const answered = new WeakSet<Duplex>();

/**
 * The server's 'clientError' handler. Like Node's default, it answers only when nothing of a response was
 * written yet, then closes; unlike it, it keeps reading (and dropping) for a moment first, so the close
 * does not turn into a reset that loses the answer on the way.
 */
export function answerClientError(err: ClientError, socket: Duplex, timeouts: RequestTimeouts, observer?: RequestObserver): void {
  // Once the parser failed, every later byte fails it again: answer once.
  if (answered.has(socket)) return;
  answered.add(socket);
  const res = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
  // A connection that opens with HTTP/2's preface speaks HTTP/2 only: it is answered in it.
  if (err.code === 'HPE_PAUSED_H2_UPGRADE' && res === undefined && socket.writable) {
    socket.end(h2Refusal());
    if (observer) observeEarlyAnswer(observer, new GatewayError('bad_request', H2_NOT_SERVED), randomUUID(), { method: 'PRI', path: '' }, (socket as Duplex & { remoteAddress?: string }).remoteAddress);
    lingeringClose(socket);
    return;
  }
  // HPE_INVALID_EOF_STATE with a request in progress: the client closed its side part way through the body (it was
  // killed, or its SDK aborted the upload). It is gone, not malformed: the handler records it as such (client_gone,
  // no error counted), where a 400 bad_request used to be counted for nobody to read.
  const clientLeft = err.code === 'ECONNRESET' || (err.code === 'HPE_INVALID_EOF_STATE' && res !== undefined);
  if (clientLeft || !socket.writable) {
    socket.destroy();
    return;
  }
  // The request being answered arrived whole: the bytes that failed come after it (more than its Content-Length
  // said, a malformed request pipelined behind it). They are not its fault: it, and any request parsed before
  // them, gets its own answer first, then the 400 for them and the close. Answered on that request, the 400
  // replaced its answer (or cut a stream under way), and the client lost a request it sent right.
  if (res !== undefined && (res as ServerResponse & { req?: IncomingMessage }).req?.complete === true) {
    // The packet starts with that request, not with the bytes that failed: the record names no request line.
    return afterAnswers(socket, () => answerRaw(gatewayErrorOf(err, false, timeouts), socket, NO_LINE, observer));
  }
  if (res?.headersSent === true) {
    socket.destroy();
    return;
  }
  const error = gatewayErrorOf(err, res !== undefined, timeouts);
  if (res) {
    // A request is being handled (its body timed out or broke). While the handler reads the body, the error goes
    // to it, so it answers with the request's own id and counts it; else it is answered here, closing the connection.
    const req = (res as ServerResponse & { req?: IncomingMessage }).req;
    if (req !== undefined && req.listenerCount('error') > 0) {
      req.emit('error', new UnreadableRequest(error.code, error.message));
      return;
    }
    return sendError(res, error, { connection: 'close', 'x-request-id': randomUUID() });
  }
  answerRaw(error, socket, requestLine(err.rawPacket), observer);
}

const NO_LINE = { method: '', path: '' };

/** Answers `error` on a socket with no response in progress, counts it (as `line`'s request), and closes. */
function answerRaw(error: GatewayError, socket: Duplex, line: { method: string; path: string }, observer: RequestObserver | undefined): void {
  const requestId = randomUUID();
  socket.end(rawResponse(error, requestId));
  if (observer) observeEarlyAnswer(observer, error, requestId, line, (socket as Duplex & { remoteAddress?: string }).remoteAddress);
  lingeringClose(socket);
}

/**
 * Runs `then` once every response on `socket` is over: Node assigns the next pipelined one to the socket as the
 * previous one finishes, before its 'close'. Nothing is left to do when the connection is closing by then (a
 * request said `Connection: close`, whose later bytes RFC 9112 §9.6 has the server ignore, or the client left).
 */
function afterAnswers(socket: Duplex, then: () => void): void {
  const res = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (res) {
    res.once('close', () => afterAnswers(socket, then));
    return;
  }
  if (socket.writable && !socket.destroyed) then();
  else socket.destroy();
}

/** What the client gets for Node's error; `requestStarted` when its headers had arrived. */
export function gatewayErrorOf(err: ClientError, requestStarted: boolean, t: RequestTimeouts): GatewayError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new GatewayError('request_header_too_large', `request headers are larger than the gateway accepts (${maxHeaderSize} bytes for the request line and all headers); send fewer or smaller headers, or a shorter URL (the request line counts: a long query string belongs in the body)`);
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new GatewayError('request_too_large', 'chunk extensions in the request body are larger than the gateway accepts (16 KiB); send the body without chunk extensions');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return requestStarted
        ? new GatewayError(
            'request_timeout',
            `the request body did not arrive within ${formatDuration(t.requestBodyTimeoutMs)} of the request's start (--request-body-timeout); send the whole request promptly, or raise --request-body-timeout for slow clients with large bodies`,
          )
        : new GatewayError('request_timeout', `the request headers did not arrive within ${formatDuration(t.requestHeadersTimeoutMs)} (--request-headers-timeout); send the request line and headers promptly`);
    default:
      return new GatewayError('bad_request', `malformed HTTP/1.1 request: ${err.reason ?? err.message} (${err.code ?? 'parse error'}); send a well-formed HTTP/1.1 request (RFC 9112): a known method, one Content-Length or Transfer-Encoding: chunked, not both`);
  }
}

/**
 * A whole HTTP/1.1 response for a socket with no ServerResponse: the error's status, its own headers (a 405's
 * `Allow`, retry advice), `x-request-id` and OpenAI body, then close.
 */
export function rawResponse(err: GatewayError, requestId: string): string {
  const body = JSON.stringify(err.toBody());
  let own = '';
  for (const [name, value] of Object.entries(err.answerHeaders())) own += `${name}: ${value}\r\n`;
  return `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${own}x-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`;
}

/** The method and path (no query) of a request line at the start of `raw`; empty when it did not arrive whole. */
export function requestLine(raw: Buffer | undefined): { method: string; path: string } {
  // Bounded: only the start of what may be a 16 KiB packet is looked at. UTF-8, as clients encode a path they
  // send unescaped (Node's parser refuses such bytes): read as Latin-1, `café` was logged and traced as `cafÃ©`.
  const m = raw ? /^([A-Z]{1,20}) ([^ \r\n?]{1,2048})[^ \r\n]* HTTP\/1\.[01]\r?\n/.exec(raw.toString('utf8', 0, 4096)) : null;
  return m ? { method: m[1]!, path: m[2]! } : { method: '', path: '' };
}

/**
 * Counts an answer the gateway gave before any handler saw the request (Node's parser, the connection limits)
 * as the handler counts a request refused before its body was read: its error code, no model.
 */
export function observeEarlyAnswer(
  observer: RequestObserver,
  err: GatewayError,
  requestId: string,
  line: { method: string; path: string },
  clientAddress: string | undefined,
  headers?: IncomingMessage['headers'],
): void {
  const r = newRequestRecord(requestId, line.method, line.path, clientAddress);
  // A request whose headers were read (a connection over the limit): its span joins the client's trace.
  if (headers) recordClientTraceContext(r, headers);
  r.status = err.status;
  r.errorCode = err.code;
  r.endedAt = performance.now();
  observer.ended(r);
}

/**
 * The HTTPS server's 'tlsClientError' handler: plain HTTP sent to the TLS port gets a 400 saying to use https://
 * instead of a closed connection. Node exposes the connection beneath the TLS socket only
 * as `_parent`; without it (a future Node) the connection just closes, as Node does by default.
 */
export function answerPlainHttpOnTls(err: ClientError, tlsSocket: Duplex, observer?: RequestObserver): void {
  const raw = (tlsSocket as Duplex & { _parent?: Duplex & { remoteAddress?: string } })._parent;
  if (err.code !== 'ERR_SSL_HTTP_REQUEST' || raw?.writable !== true) return;
  const error = new GatewayError('bad_request', 'this port speaks HTTPS and plain HTTP was sent to it; send the request to https:// at the same host and port');
  const requestId = randomUUID();
  raw.end(rawResponse(error, requestId));
  if (observer) observeEarlyAnswer(observer, error, requestId, { method: '', path: '' }, raw.remoteAddress);
}
