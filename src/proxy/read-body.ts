/** Reads a request body into memory up to a limit; larger bodies get 413 before they are buffered. */
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors.js';
import type { BodyLimit } from './body-limits.js';

/**
 * Sees each chunk as it arrives (the JSON parser, the memory budget): what it throws refuses the body there,
 * before the rest is kept; a promise it returns holds further reading until it resolves, and refuses the
 * body if it rejects.
 */
export interface BodySink {
  write(chunk: Buffer): Promise<void> | undefined | void;
  /** The whole body arrived. */
  arrived?(): void;
}

/** Reads the body within `limit` bytes (a number: `--max-body-bytes`'s; a BodyLimit names its own flag in the 413). */
export function readBody(req: IncomingMessage, limit: number | BodyLimit, sink?: BodySink): Promise<Buffer> {
  const maxBytes = typeof limit === 'number' ? limit : limit.bytes;
  const flag = typeof limit === 'number' ? undefined : limit.flag;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(bodyTooLarge(maxBytes, declared, flag));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    /** The sink's work on the latest chunk, while it is not done. */
    let pending: Promise<void> | undefined;
    const refuse = (e: unknown): void => {
      if (refused) return;
      refused = true;
      cleanup();
      chunks.length = 0;
      // Stop keeping the body but let the socket drain, so the error can still be written.
      req.resume();
      reject(e);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) return refuse(bodyTooLarge(maxBytes, undefined, flag));
      let wait: Promise<void> | undefined | void;
      try {
        wait = sink?.write(chunk);
      } catch (e) {
        return refuse(e);
      }
      chunks.push(chunk);
      if (wait) {
        req.pause();
        const p = wait.then(
          () => {
            if (pending === p) pending = undefined;
            if (!refused) req.resume();
          },
          refuse,
        );
        pending = p;
      }
    };
    const finish = (): void => {
      if (refused) return;
      sink?.arrived?.();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onEnd = (): void => {
      cleanup();
      // 'end' can come while the last chunk's work is still pending (a paused stream still ends once its last
      // chunk was read): finish after it.
      if (pending) void pending.then(finish);
      else finish();
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
export function bodyTooLarge(max: number, declared?: number, flag = '--max-body-bytes'): GatewayError {
  return new GatewayError('request_too_large', `request body ${declared !== undefined ? `of ${declared} bytes ` : ''}exceeds the gateway's limit of ${max} bytes (${flag})`);
}
