/** Drains an HTTP/1.1 server: stops accepting, answers `Connection: close`, closes idle keep-alive connections, waits for the rest. */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * How long a keep-alive connection must have been idle, once draining, before it is closed. A connection
 * that just finished a response is the one a client is about to send its next request on: closing it at once
 * would reset that request. Given this long, the request arrives and is answered with `Connection: close`.
 */
export const DEFAULT_IDLE_LINGER_MS = 1000;

interface Connection {
  /** Requests on it whose response has not closed yet. */
  active: number;
  /** performance.now() when `active` last went to 0 (or the connection opened). */
  idleSince: number;
}

/**
 * The event a connection that carries requests is seen with: over TLS a request's socket is the TLS socket, so
 * 'secureConnection' (once the handshake is done), else 'connection'.
 */
export function connectionEvent(server: Server): 'connection' | 'secureConnection' {
  return 'setSecureContext' in server ? 'secureConnection' : 'connection';
}

const TRACKED = Symbol('httpDrain');
type Tracked = ServerResponse & { [TRACKED]?: { drain: HttpDrain; conn: Connection | undefined } };

/** The 'close' listener of every tracked response (a response closes once). */
function responseClosed(this: ServerResponse): void {
  const t = (this as Tracked)[TRACKED];
  if (t === undefined) return;
  (this as Tracked)[TRACKED] = undefined;
  HttpDrain.closed(t.drain, this, t.conn);
}

/**
 * Tracks the server's connections and requests from construction on (a counter and a `close` listener per
 * request), and drives its drain. Before `drain()` nothing changes for clients.
 */
export class HttpDrain {
  readonly #server: Server;
  readonly #lingerMs: number;
  readonly #connections = new Map<Socket, Connection>();
  readonly #responses = new Set<ServerResponse>();
  #closed: Promise<void> | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  /** Called when the last connection has closed, once draining. */
  #onEmpty: (() => void) | undefined;

  constructor(server: Server, options: { idleLingerMs?: number } = {}) {
    this.#server = server;
    this.#lingerMs = options.idleLingerMs ?? DEFAULT_IDLE_LINGER_MS;
    server.on(connectionEvent(server), (socket: Socket) => {
      this.#connections.set(socket, { active: 0, idleSince: performance.now() });
      socket.once('close', () => {
        this.#connections.delete(socket);
        if (this.#connections.size === 0) this.#onEmpty?.();
      });
    });
    // First among 'request' listeners: the handler may answer synchronously (/healthz), after the header is due.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res));
  }

  /** Requests whose response has not finished (streams included). */
  get inFlight(): number {
    return this.#responses.size;
  }

  /** Open client connections, idle ones included. */
  get connections(): number {
    return this.#connections.size;
  }

  get draining(): boolean {
    return this.#closed !== undefined;
  }

  /**
   * Stops accepting (new connections are refused), answers every response not started yet with
   * `Connection: close` (so keep-alive clients reconnect, to another replica), and closes keep-alive
   * connections once idle for the linger. Resolves when every connection is closed. Idempotent.
   */
  drain(): Promise<void> {
    if (this.#closed) return this.#closed;
    // net.Server#close, not http.Server#close: since Node 19 the latter also destroys idle keep-alive
    // connections at once, resetting a request a client is sending on one at that moment. They are closed
    // below, after the linger.
    const listenerClosed = new Promise<void>((resolve) => NetServer.prototype.close.call(this.#server, () => resolve()));
    // The server counts a socket gone when it is destroyed; its 'close' (and so our count) comes a little later.
    const empty = new Promise<void>((resolve) => {
      if (this.#connections.size === 0) resolve();
      else this.#onEmpty = resolve;
    });
    this.#closed = Promise.all([listenerClosed, empty]).then(() => undefined);
    for (const res of this.#responses) if (!res.headersSent) res.setHeader('connection', 'close');
    this.#sweep();
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(10, Math.floor(this.#lingerMs / 4)));
    this.#sweeper.unref();
    void this.#closed.then(() => clearInterval(this.#sweeper));
    return this.#closed;
  }

  /** Destroys every connection, requests in flight included (the drain timeout passed). */
  cut(): void {
    this.#server.closeAllConnections();
    for (const socket of this.#connections.keys()) socket.destroy();
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.#closed) res.setHeader('connection', 'close');
    this.#responses.add(res);
    const conn = this.#connections.get(req.socket);
    if (conn) conn.active++;
    // One shared listener, its state on the response: no closure or once() wrapper per request (the hot path).
    (res as Tracked)[TRACKED] = { drain: this, conn };
    res.on('close', responseClosed);
  }

  /** `res` (tracked by {@link #onRequest}) closed. */
  static closed(drain: HttpDrain, res: ServerResponse, conn: Connection | undefined): void {
    drain.#responses.delete(res);
    if (conn && --conn.active === 0) conn.idleSince = performance.now();
  }

  /**
   * Closes the connections idle for at least the linger. Decided in setImmediate, after the event loop's poll
   * phase: after a stall (a busy CPU) timers run before pending socket data is read, and a request already
   * waiting in the kernel would otherwise count as idle time and be reset.
   */
  #sweep(): void {
    setImmediate(() => {
      const now = performance.now();
      for (const [socket, conn] of this.#connections) if (conn.active === 0 && now - conn.idleSince >= this.#lingerMs) socket.destroy();
    });
  }
}
