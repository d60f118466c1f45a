/** Reads a request body into memory up to a limit; larger bodies get 413 before they are buffered. */
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors.js';

export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(bodyTooLarge(maxBytes, declared));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        // Stop reading but let the socket drain so the 413 can still be written.
        req.resume();
        reject(bodyTooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** The 413 for a body over the limit; `declared` when the Content-Length already said so. The ext_proc servers answer it too. */
export function bodyTooLarge(max: number, declared?: number): GatewayError {
  return new GatewayError('request_too_large', `request body ${declared !== undefined ? `of ${declared} bytes ` : ''}exceeds the gateway's limit of ${max} bytes (--max-body-bytes)`);
}
