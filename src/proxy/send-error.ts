/** Writes a GatewayError to the client in OpenAI's error shape (Anthropic's under /v1/messages), with its retry advice, if the response has not started. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayError } from '../errors.js';
import { closeAfterAnswer } from './lingering-close.js';
import { errorBodyFor } from '../route/messages-api.js';
import { awaitsContinue } from './expectations.js';

/**
 * An error answered while a long request body may still be arriving (a 401 or 413 on its headers, a body refused
 * part way) closes the connection after it, with a lingering close: the client that is still uploading reads the
 * answer instead of a reset, and the gateway does not read on through a body it will not use (Node would, to keep
 * the connection, through any length a chunked or over-the-limit body has). So does any answer that says
 * `connection: close` (a 413 instead of 100 Continue, a body Node could not read), and one to a client still
 * waiting for 100 Continue (it may send its body or not). The rest of a shorter body is
 * read and dropped by Node, and the connection kept.
 */
export function sendError(res: ServerResponse, err: GatewayError, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers = { ...extraHeaders, ...err.answerHeaders() };
  if (headers.connection === 'close' || res.getHeader('connection') === 'close' || longBodyPending(res.req) || awaitsContinue(res.req)) {
    headers.connection = 'close';
    closeAfterAnswer(res);
  }
  sendJson(res, err.status, errorBodyFor(res.req.url, err), headers);
}

/** The most of a body still to come after an early answer that is read and dropped to keep the connection. */
export const DRAIN_MAX_BYTES = 1024 * 1024;

/**
 * Whether more than DRAIN_MAX_BYTES of `req`'s body may still be on the way: a chunked body (no telling), or a
 * declared one that large. A request without a body has none, though Node marks it complete only after this
 * runs (it answers within the callback that saw the headers).
 */
function longBodyPending(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const length = req.headers['content-length'];
  return length !== undefined ? Number(length) > DRAIN_MAX_BYTES : req.headers['transfer-encoding'] !== undefined;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extraHeaders });
  res.end(text);
}
