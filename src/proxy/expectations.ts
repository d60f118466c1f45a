/** The request's `Expect` header: 100 Continue only for a body the gateway will take, other expectations ignored (RFC 9110 §10.1.1). */
import type { Server } from 'node:http';
import type { BodyLimits } from './body-limits.js';

/**
 * Node answers `Expect: 100-continue` with 100 at once, before any handler runs: a client then uploads a body
 * over --max-body-bytes only to be refused with 413 part way. With this, a declared Content-Length over the
 * limit gets the 413 instead of the 100 (the client need not send the body), on a connection closed after it
 * rather than one that reads a body the client may send anyway; any other request gets its 100 and is served.
 */
export function answerExpectations(server: Server, limits: BodyLimits): void {
  server.on('checkContinue', (req, res) => {
    if (Number(req.headers['content-length']) > limits.of(req.headers['content-type']).bytes) res.setHeader('connection', 'close');
    else res.writeContinue();
    // The 'request' listeners, as for any request: the handler's readBody refuses the declared length itself.
    server.emit('request', req, res);
  });
  // Any other expectation is ignored and the request served, as uvicorn (so vLLM) does: RFC 9110 §10.1.1 lets a
  // server answer 417 but does not require it, and Node's own 417 had no body, no id and was not counted.
  server.on('checkExpectation', (req, res) => server.emit('request', req, res));
}
