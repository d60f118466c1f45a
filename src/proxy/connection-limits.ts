/** The gateway's HTTP server with limits on its client connections: request timeouts, keep-alive, connection caps. */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { requestIdOf } from '../observability/request-id.js';
import type { RequestObserver } from '../observability/request-record.js';
import { answerClientError, answerPlainHttpOnTls, observeEarlyAnswer } from './client-errors.js';
import { sendError } from './send-error.js';
import { answerConnect } from './connect-method.js';
import { invalidHost } from './host-header.js';
import { maxOpenFiles } from '../observability/metrics/process-metrics.js';
import { connectionEvent } from '../lifecycle/http-drain.js';
import type { CertificatePem } from './serving-certificate.js';

/**
 * How long a request may take to arrive (headers, then the whole request), how long an idle keep-alive
 * connection stays, and how many connections may be open, in all and per client address; past a limit the
 * client gets an OpenAI-shaped error. Each is a `serve` flag; durations in ms. `requestHeadersTimeoutMs` is
 * held to at most `requestBodyTimeoutMs` when both are on (Node requires it).
 */
export interface ConnectionLimits {
  /** Time to receive a request's line and headers (Node's `server.headersTimeout`); 0 = none. */
  requestHeadersTimeoutMs: number;
  /**
   * Time to receive a whole request, headers and body (Node's `server.requestTimeout`); 0 = none. It stops
   * counting once the request is in: a long streamed response is never cut by it.
   */
  requestBodyTimeoutMs: number;
  /** How long an idle keep-alive connection stays open (Node's `server.keepAliveTimeout`). */
  keepAliveTimeoutMs: number;
  /** Client connections open at once; one more gets 503 too_many_connections. */
  maxConnections: number;
  /** Connections open at once from one client address; 0 = no limit (behind a load balancer, clients share its address). */
  maxConnectionsPerClient: number;
}

/** Connections past the limit that still get a 503 answer; past these, Node refuses them at accept without a word. */
const ANSWERED_OVER_LIMIT = 64;
/** How long a connection over the limit has to send its request and read the 503 before it is closed. */
const REFUSED_GRACE_MS = 1000;
/** Connection-limit warnings: at most one per this interval, with a count. */
const WARN_EVERY_MS = 10_000;

/**
 * Half the process's open-file limit less a reserve, at most 10,000: a proxied request holds two descriptors
 * (the client's and the upstream's), and the reserve covers configuration files, metric scrapes and model
 * discovery. Node raises the soft limit to the hard one at startup, so /proc shows what the process has.
 */
export function defaultMaxConnections(limitsText?: string): number {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      text = '';
    }
  }
  // The soft limit as process_max_fds reports it; none stated (or `unlimited`) leaves only the 10,000 cap.
  const files = maxOpenFiles(text) ?? Infinity;
  return Math.max(64, Math.min(10_000, Math.floor((files - 256) / 2)));
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = {
  requestHeadersTimeoutMs: 30_000,
  // 16 MiB (the default --max-body-bytes) in a minute is ~280 KB/s; a slow-body client holds a connection no longer.
  requestBodyTimeoutMs: 60_000,
  // Longer than the 60 s idle timeout of common load balancers, so they close idle connections first.
  keepAliveTimeoutMs: 65_000,
  maxConnections: defaultMaxConnections(),
  maxConnectionsPerClient: 0,
};

/**
 * Creates the server for `handler` with `limits` in force (see {@link ConnectionLimits}): HTTPS with `tls`, else
 * HTTP. An HTTPS server is an http.Server in every way the gateway uses (requests, timeouts, closing connections).
 * `observer` is told of the answers given before `handler` sees a request (Node's parser, connection limits).
 */
export function createLimitedServer(
  limits: ConnectionLimits,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  log: Logger,
  tls?: CertificatePem,
  observer?: RequestObserver,
): Server {
  const body = limits.requestBodyTimeoutMs;
  // Node requires it: the headers are part of the request, so they can never take longer than all of it.
  const headers = body > 0 && limits.requestHeadersTimeoutMs > body ? body : limits.requestHeadersTimeoutMs;
  const refused = new WeakMap<Socket, GatewayError>();
  const options = {
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    headersTimeout: headers,
    requestTimeout: body,
    // Node checks both request timeouts on this interval (30 s by default, so they would fire up to 30 s late).
    connectionsCheckingInterval: checkingInterval(headers, body),
    // Node's own 400 for an HTTP/1.1 request without Host is bare (no body, no id, not counted): answered below.
    requireHostHeader: false,
  };
  /** Answers `refusal` before the handler sees the request, with the client's id when it sent one, and counts it. */
  const refuse = (req: IncomingMessage, res: ServerResponse, refusal: GatewayError, headers: Record<string, string>): void => {
    // The client's own id when it sent one, as every other answer of the gateway keeps it.
    const requestId = requestIdOf(req.headers['x-request-id'], log);
    sendError(res, refusal, { ...headers, 'x-request-id': requestId });
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if (observer) observeEarlyAnswer(observer, refusal, requestId, { method: req.method ?? '', path: q < 0 ? url : url.slice(0, q) }, req.socket.remoteAddress, req.headers);
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const refusal = refused.get(req.socket);
    if (refusal) return refuse(req, res, refusal, { connection: 'close', 'retry-after': '1' });
    // RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without Host (absolute-form included).
    const host = req.headers.host;
    if (host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor === 1) return refuse(req, res, MISSING_HOST, {});
    // And a Host field with an invalid value (§3.2 again).
    const badHost = host === undefined ? undefined : invalidHost(host);
    if (badHost) return refuse(req, res, badHost, {});
    handler(req, res);
  };
  const server = tls ? (createTlsServer({ ...options, cert: tls.cert, key: tls.key }, onRequest) as unknown as Server) : createServer(options, onRequest);
  server.maxConnections = limits.maxConnections + ANSWERED_OVER_LIMIT;
  const timeouts = { requestHeadersTimeoutMs: headers, requestBodyTimeoutMs: body };
  server.on('clientError', (err: Error, socket) => answerClientError(err, socket, timeouts, observer));
  if (tls) server.on('tlsClientError', (err: Error, socket: Duplex) => answerPlainHttpOnTls(err, socket, observer));
  server.on('connect', (req: IncomingMessage, socket: Duplex) => answerConnect(req, socket, log, observer));

  let open = 0;
  const byClient = new Map<string, number>();
  let refusedSinceWarn = 0;
  let lastWarn = 0;
  // Counted as the drain tracks them: over TLS, once the handshake is done.
  server.on(connectionEvent(server), (socket: Socket) => {
    const client = socket.remoteAddress ?? '';
    open++;
    const fromClient = (byClient.get(client) ?? 0) + 1;
    byClient.set(client, fromClient);
    socket.once('close', () => {
      open--;
      const n = (byClient.get(client) ?? 1) - 1;
      if (n > 0) byClient.set(client, n);
      else byClient.delete(client);
    });
    const refusal =
      open > limits.maxConnections
        ? tooManyConnections(`the gateway is at its limit of ${limits.maxConnections} open client connections (--max-connections)`)
        : limits.maxConnectionsPerClient > 0 && fromClient > limits.maxConnectionsPerClient
          ? tooManyConnections(`client ${client} is at the limit of ${limits.maxConnectionsPerClient} open connections per client address (--max-connections-per-client)`)
          : undefined;
    if (!refusal) return;
    refused.set(socket, refusal);
    const timer = setTimeout(() => socket.destroy(), REFUSED_GRACE_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    refusedSinceWarn++;
    const now = Date.now();
    if (now - lastWarn >= WARN_EVERY_MS) {
      log.warn('connection limit reached: new connections get 503 too_many_connections', { open, refused: refusedSinceWarn, reason: refusal.message });
      lastWarn = now;
      refusedSinceWarn = 0;
    }
  });
  return server;
}

const MISSING_HOST = new GatewayError('bad_request', 'HTTP/1.1 request without a Host header; send Host with the name the gateway is reached by (RFC 9112 §3.2 requires it of every HTTP/1.1 request)');

function tooManyConnections(why: string): GatewayError {
  return new GatewayError('too_many_connections', `${why}; retry shortly, and reuse connections (HTTP keep-alive) rather than opening one per request`);
}

function checkingInterval(headersMs: number, bodyMs: number): number {
  const on = [headersMs, bodyMs].filter((t) => t > 0);
  return on.length === 0 ? 30_000 : Math.max(50, Math.min(1000, Math.floor(Math.min(...on) / 4)));
}
