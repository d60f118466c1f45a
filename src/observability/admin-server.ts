/**
 * The admin listener, apart from traffic (GIE's and llm-d's port 9090): `GET /metrics` for Prometheus,
 * `GET /debug/scheduling` when decisions are kept, and routes others add (`GET /readyz` for `extproc`,
 * `GET /` for a dashboard).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants, createGzip } from 'node:zlib';
import { GatewayError, MethodNotAllowed } from '../errors.js';
import type { DecisionLog } from './decision-log.js';
import type { Logger } from '../logger.js';

/** GIE's and llm-d's metrics port. */
export const DEFAULT_ADMIN_PORT = 9090;

/** Answers one GET; `url` is parsed, the query in `url.searchParams`. */
export type AdminRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

export interface AdminServerOptions {
  host: string;
  /** 0 picks an ephemeral port (tests). */
  port: number;
  /** What `GET /metrics` serves: the exposition's bytes (in parts, written as they are) and its content type. */
  metrics: { renderBody(): Promise<{ contentType: string; body: readonly Buffer[] }> };
  /** What `GET /debug/scheduling` shows; off (404 debug_disabled) when absent or kept at 0. */
  decisions?: DecisionLog;
  log: Logger;
}

export class AdminServer {
  readonly #o: AdminServerOptions;
  readonly #routes = new Map<string, AdminRoute>();
  readonly server: Server;

  constructor(options: AdminServerOptions) {
    this.#o = options;
    this.#routes.set('/metrics', (req, res) => this.#metrics(req, res));
    this.#routes.set('/debug/scheduling', (_req, res, url) => this.#debug(res, url));
    this.server = createServer((req, res) => void this.#handle(req, res));
    // Scrapes are short; a client that opens a connection and sends nothing must not hold it forever.
    this.server.requestTimeout = 30_000;
    this.server.headersTimeout = 10_000;
  }

  /** Adds or replaces the answer to `GET path` (`/` is left for a dashboard; `extproc` adds `/readyz`). */
  route(path: string, handler: AdminRoute): void {
    this.#routes.set(path, handler);
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.#o.port, this.#o.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /** `http://host:port`, once listening. */
  get url(): string {
    const a = this.server.address() as AddressInfo | null;
    if (!a) throw new Error('the admin server is not listening');
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = requestUrl(req.url);
      const route = this.#routes.get(url.pathname);
      if (!route) return sendJson(res, 404, new GatewayError('route_not_found', `no admin endpoint at ${url.pathname}; this port serves GET ${[...this.#routes.keys()].sort().join(', GET ')}`).toBody());
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new MethodNotAllowed(`${req.method} ${url.pathname} is not served: the admin port answers GET (and HEAD) only`, 'GET, HEAD');
      await route(req, res, url);
    } catch (e) {
      // A route's refusal (debug output off, a bad parameter, a profile already running) is the client's answer.
      if (e instanceof GatewayError && !res.headersSent) return sendJson(res, e.status, e.toBody(), e.answerHeaders());
      this.#o.log.error('admin request failed', { path: req.url, error: (e as Error).message });
      if (!res.headersSent) sendJson(res, 500, new GatewayError('internal_error', `internal error: ${(e as Error).message}`).toBody());
      else res.destroy();
    }
  }

  async #metrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { contentType, body } = await this.#o.metrics.renderBody();
    if (acceptsGzip(req.headers['accept-encoding'])) {
      // Prometheus asks for gzip: exposition text shrinks about 30x. zlib compresses on libuv's thread pool, off
      // the request thread; the fastest level loses little on text this repetitive (docs/metrics.md).
      res.writeHead(200, { 'content-type': contentType, 'content-encoding': 'gzip', vary: 'accept-encoding' });
      const gz = createGzip({ level: constants.Z_BEST_SPEED });
      gz.on('error', () => res.destroy());
      gz.pipe(res);
      for (const b of body) gz.write(b);
      gz.end();
      return;
    }
    let length = 0;
    for (const b of body) length += b.length;
    res.writeHead(200, { 'content-type': contentType, 'content-length': length, vary: 'accept-encoding' });
    // The parts leave in one socket write (the response is corked within this turn), never joined into a copy.
    for (const b of body) res.write(b);
    res.end();
  }

  #debug(res: ServerResponse, url: URL): void {
    const d = this.#o.decisions;
    if (!d?.enabled) {
      throw new GatewayError('debug_disabled', 'GET /debug/scheduling is off; start the gateway with --debug-decisions N to keep the last N scheduling decisions (it exposes per-request routing data: see docs/configuration.md)');
    }
    sendJson(res, 200, d.report(url.searchParams.get('limit'), url.searchParams.get('request_id')));
  }
}

/**
 * The request's URL. An origin-form target is appended to the base, not resolved against it: resolved, `//metrics`
 * is a scheme-relative URL whose host is `metrics` and whose path is `/`, so it got the dashboard page.
 */
function requestUrl(target = '/'): URL {
  return new URL(target.startsWith('/') ? `http://admin${target}` : target, 'http://admin');
}

/** Whether `Accept-Encoding` takes gzip: named with a q above 0, or else `*` with one (RFC 9110: a named coding wins). */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  let star: boolean | undefined;
  for (const part of header.split(',')) {
    const [coding = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const ok = q === undefined || Number(q.slice(2)) > 0;
    if (coding.trim() === 'gzip' || coding.trim() === 'x-gzip') return ok;
    if (coding.trim() === '*') star = ok;
  }
  return star === true;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
