/** Reading request bodies and writing JSON, text and SSE responses with node:http. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { VllmError, badRequest } from './vllm-error.js';
import { bomLength } from '../bbr/utf8-bom.js';

/** Generous for prompts, small enough that a runaway client cannot exhaust memory. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Reads a whole body into memory; a 413 past `limit` bytes (the rest is drained so the 413 can be written). */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new VllmError(413, `request body is larger than ${limit} bytes`));
        // Stop buffering but keep draining, so the 413 can still be written on this connection.
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** Reads and parses a JSON body; a 400 for bad JSON, a 413 past MAX_BODY_BYTES. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req);
  // vLLM's json.loads reads the body's bytes as utf-8-sig: a byte order mark opening it is skipped.
  const text = body.toString('utf8', bomLength(body));
  if (text.trim() === '') throw badRequest('the request body is empty; send a JSON object');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`invalid JSON in request body: ${(err as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

export function sendText(res: ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answers with `err` if nothing was sent yet; otherwise the response is cut, as a dying server would. */
export function sendError(res: ServerResponse, err: VllmError): void {
  if (res.destroyed) return; // the client is gone; nobody would read it
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.status, err.responseBody());
}

/** Starts an SSE response and sends its headers at once, so clients see the stream open before the first token. */
export function startEventStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

/** One SSE event; node:http writes it to the socket immediately (no corking), so each token is its own packet. */
export function writeEvent(res: ServerResponse, data: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

/** One named SSE event, as the Responses API streams them: `event: <type>` then its JSON. */
export function writeNamedEvent(res: ServerResponse, type: string, data: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}
