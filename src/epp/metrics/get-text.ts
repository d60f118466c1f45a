/** GETs a small text body through an undici dispatcher, with a deadline and a size cap, and no body stream. */
import type { Dispatcher } from 'undici';

export interface GetTextOptions {
  /** The whole exchange, connect to last byte (ms). Fails with an error named TimeoutError. */
  timeoutMs: number;
  /** A larger body fails the request as soon as the cap is passed. */
  maxBytes: number;
  headers?: Record<string, string>;
}

export interface TextResponse {
  statusCode: number;
  text: string;
}

/**
 * undici's `request()` wraps every body in a Readable and its deadline in an AbortSignal; at 2,000 scrapes a
 * second those cost more CPU than parsing the body, so this talks to the dispatcher's handler API directly.
 */
export function getText(dispatcher: Dispatcher, origin: string, path: string, opts: GetTextOptions): Promise<TextResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let statusCode = 0;
    let controller: Dispatcher.DispatchController | undefined;
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      controller?.abort(err);
      reject(err);
    };
    const timer = setTimeout(() => {
      const err = new Error(`timed out after ${opts.timeoutMs} ms`);
      err.name = 'TimeoutError';
      fail(err);
    }, opts.timeoutMs);
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (settled) c.abort(new Error('request cancelled'));
      },
      onResponseStart(_c, status) {
        statusCode = status;
      },
      onResponseData(_c, chunk) {
        if (settled) return;
        size += chunk.length;
        if (size > opts.maxBytes) fail(new Error(`body larger than ${opts.maxBytes} bytes`));
        else chunks.push(chunk);
      },
      onResponseEnd() {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        resolve({ statusCode, text: body.toString('utf8') });
      },
      onResponseError(_c, err) {
        fail(err);
      },
    };
    try {
      // undici's own timeouts only back ours up, so the deadline error is always ours.
      const request = { origin, path, method: 'GET' as const, headers: opts.headers ?? {}, headersTimeout: 2 * opts.timeoutMs, bodyTimeout: 2 * opts.timeoutMs };
      dispatcher.dispatch(request, handler);
    } catch (e) {
      fail(e as Error);
    }
  });
}
