/** Writes a GatewayError to the client in OpenAI's error shape (with its retry advice), if the response has not started. */
import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../errors.js';
import { closeAfterAnswer } from './lingering-close.js';

/**
 * An error answered before the request's body is all in (a 401 or 413 on its headers, a body refused part way)
 * closes the connection after it, with a lingering close: the client that is still uploading reads the answer
 * instead of a reset, and the gateway does not read on through a body it will not use (Node would, to keep the
 * connection, through any length a chunked or over-the-limit body has).
 */
export function sendError(res: ServerResponse, err: GatewayError, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers = { ...extraHeaders, ...err.answerHeaders() };
  if (!res.req.complete) {
    headers.connection = 'close';
    closeAfterAnswer(res);
  }
  sendJson(res, err.status, err.toBody(), headers);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extraHeaders });
  res.end(text);
}
