/** Writes a GatewayError to the client in OpenAI's error shape (with its retry advice), if the response has not started. */
import type { ServerResponse } from 'node:http';
import type { GatewayError } from '../errors.js';

export function sendError(res: ServerResponse, err: GatewayError, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.status, err.toBody(), { ...extraHeaders, ...err.answerHeaders() });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extraHeaders });
  res.end(text);
}
