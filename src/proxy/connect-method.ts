/** CONNECT, which Node hands to a 'connect' listener or else closes unanswered: a 405 in OpenAI's shape. */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { MethodNotAllowed, shown } from '../errors.js';
import type { Logger } from '../logger.js';
import { requestIdOf } from '../observability/request-id.js';
import type { RequestObserver } from '../observability/request-record.js';
import { observeEarlyAnswer, rawResponse } from './client-errors.js';
import { lingeringClose } from './lingering-close.js';

/** The methods the gateway routes (every one an HTTPRoute match may name, but CONNECT and TRACE). */
export const ROUTED_METHODS = 'GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH';

/**
 * The server's 'connect' handler. A client set to use the gateway as its HTTPS proxy (HTTPS_PROXY, curl -p)
 * sends CONNECT: Node would close the connection without a word, which the client reports as a proxy
 * failure naming nothing. It gets the 405 that says what to do, counted as the gateway's other early answers.
 */
export function answerConnect(req: IncomingMessage, socket: Duplex, log: Logger, observer?: RequestObserver): void {
  const err = new MethodNotAllowed(
    `CONNECT ${shown(req.url ?? '')} is not served: the gateway is no forward proxy and opens no tunnels; send requests to it directly (POST /v1/chat/completions, ...), not through it as a proxy (unset HTTPS_PROXY for it)`,
    ROUTED_METHODS,
  );
  const requestId = requestIdOf(req.headers['x-request-id'], log);
  socket.on('error', () => undefined);
  socket.end(rawResponse(err, requestId));
  if (observer) observeEarlyAnswer(observer, err, requestId, { method: 'CONNECT', path: '' }, req.socket.remoteAddress, req.headers);
  lingeringClose(socket);
}
