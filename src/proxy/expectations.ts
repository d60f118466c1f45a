/** The request's `Expect` header: 100 Continue only once the gateway reads the body it will take, other expectations ignored (RFC 9110 §10.1.1). */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { BodyLimits } from './body-limits.js';

/** Requests whose client waits for 100 Continue before it sends the body, until they get it. */
const waiting = new WeakSet<IncomingMessage>();

/**
 * Node answers `Expect: 100-continue` with 100 at once, before any handler runs: a client then uploads a body
 * the gateway refuses on its headers all the same (a 401 for a wrong key, a 403, a 405) or by its declared
 * length. With this, the 100 goes out only when the handler starts reading the body ({@link continueIfAsked}),
 * as uvicorn (so vLLM) sends it when the app first reads: a request refused before that gets its answer
 * instead, and the client need not send the body. A declared Content-Length over the limit gets its 413 on a
 * connection closed after it (src/proxy/send-error.ts), rather than one that would read a body the client may
 * send anyway; other expectations are ignored and the request served.
 */
export function answerExpectations(server: Server, limits: BodyLimits): void {
  server.on('checkContinue', (req, res) => {
    if (Number(req.headers['content-length']) > limits.of(req.headers['content-type']).bytes) res.setHeader('connection', 'close');
    else waiting.add(req);
    // The 'request' listeners, as for any request: the handler's readBody refuses the declared length itself.
    server.emit('request', req, res);
  });
  // Any other expectation is ignored and the request served, as uvicorn (so vLLM) does: RFC 9110 §10.1.1 lets a
  // server answer 417 but does not require it, and Node's own 417 had no body, no id and was not counted.
  server.on('checkExpectation', (req, res) => server.emit('request', req, res));
}

/**
 * Whether `req`'s client still waits for 100 Continue: an answer now must close the connection after it, since
 * the client may send the body or not (RFC 9110 §10.1.1), and the next request cannot be told from it.
 */
export function awaitsContinue(req: IncomingMessage): boolean {
  return waiting.has(req);
}

/** Sends the 100 Continue `req`'s client waits for, if it does: the handler is about to read the body. */
export function continueIfAsked(req: IncomingMessage, res: ServerResponse): void {
  if (!waiting.delete(req)) return;
  res.writeContinue();
}
