/** Drains an HTTP/1.1 server: stops accepting, answers `Connection: close`, closes idle keep-alive connections, waits for the rest. */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LiveList, type LiveNode } from '../live-list.js';

/**
 * How long a keep-alive connection must have been idle, once draining, before it is closed. A connection
 * that just finished a response is the one a client is about to send its next request on: closing it at once
 * would reset that request. Given this long, the request arrives and is answered with `Connection: close`.
 */
export const DEFAULT_IDLE_LINGER_MS = 1000;

interface Connection {
  readonly socket: Socket;
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
/** A response in flight: its drain, its connection and its place among the responses in flight. */
interface Tracking {
  drain: HttpDrain;
  conn: Connection | undefined;
  node: LiveNode<ServerResponse>;
}
type Tracked = ServerResponse & { [TRACKED]?: Tracking };
/** Set on a response still in flight when {@link HttpDrain#cut} destroyed its connection. */
const CUT = Symbol('httpDrainCut');
type Cuttable = ServerResponse & { [CUT]?: true };

/**
 * Whether the drain timeout cut this response ({@link HttpDrain#cut}). Its connection closes as when a client hangs
 * up, but the gateway ended it: the observers count it as such, not as a client that left.
 */
export function cutByDrain(res: ServerResponse): boolean {
  return (res as Cuttable)[CUT] === true;
}

/** Each connection's state, on its socket (not in a Map keyed by socket: see src/live-list.ts). */
const CONNECTION = Symbol('httpDrainConnection');
type WithConnection = Socket & { [CONNECTION]?: Connection };

/** TLS only: a TCP connection whose handshake has not completed, so no request can be on it yet. */
interface Handshake {
  readonly socket: Socket;
  /** performance.now() when it was accepted. */
  readonly since: number;
}
/** Its place among the handshakes, on the raw socket, until the handshake completes or the socket closes. */
const HANDSHAKE = Symbol('httpDrainHandshake');
type Handshaking = Socket & { [HANDSHAKE]?: LiveNode<Handshake> };

/** The 'close' listener of every tracked response (a response closes once). */
function responseClosed(this: ServerResponse): void {
  const t = (this as Tracked)[TRACKED];
  if (t === undefined) return;
  (this as Tracked)[TRACKED] = undefined;
  HttpDrain.closed(t);
}

/**
 * Tracks the server's connections and requests from construction on (a counter and a `close` listener per
 * request), and drives its drain. Before `drain()` nothing changes for clients.
 */
export class HttpDrain {
  readonly #server: Server;
  readonly #lingerMs: number;
  // Lists, not a Map and a Set: members come and go once per connection and per request (src/live-list.ts).
  readonly #connections = new LiveList<Connection>();
  readonly #responses = new LiveList<ServerResponse>();
  /**
   * TLS: the accepted connections still in their handshake, which 'secureConnection' has not shown yet. The
   * listener's close waits for them too, and a client that connects and sends nothing (a load balancer's TCP
   * check, a port scan) would hold the drain, then the exit, for Node's 120 s handshake timeout.
   */
  readonly #handshakes = new LiveList<Handshake>();
  #closed: Promise<void> | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  /** Called when the last connection has closed, once draining. */
  #onEmpty: (() => void) | undefined;

  constructor(server: Server, options: { idleLingerMs?: number } = {}) {
    this.#server = server;
    this.#lingerMs = options.idleLingerMs ?? DEFAULT_IDLE_LINGER_MS;
    const secure = connectionEvent(server) === 'secureConnection';
    if (secure) server.on('connection', (raw: Handshaking) => this.#onHandshakeStart(raw));
    server.on(connectionEvent(server), (socket: WithConnection) => {
      // The TLS socket wraps the TCP one (Node's `_parent`, not typed): its handshake is over.
      if (secure) this.#handshakeDone((socket as Socket & { _parent?: Handshaking })._parent);
      const conn: Connection = { socket, active: 0, idleSince: performance.now() };
      const node = this.#connections.add(conn);
      socket[CONNECTION] = conn;
      socket.once('close', () => {
        this.#connections.remove(node);
        this.#checkEmpty();
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
      if (this.#connections.size === 0 && this.#handshakes.size === 0) resolve();
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

  /**
   * Destroys every connection, requests in flight included (the drain timeout passed). `lastWords`, when given,
   * is told of each response in flight first, while its connection is still open: a stream can say in-band why
   * it ends (the write is handed to the socket at once; what the kernel took before the close still goes out).
   */
  cut(lastWords?: (res: ServerResponse) => void): void {
    // Marked before any socket goes: their 'close' (and the request's end) comes after this returns.
    for (const res of this.#responses) {
      (res as Cuttable)[CUT] = true;
      lastWords?.(res);
    }
    this.#server.closeAllConnections();
    for (const conn of this.#connections) conn.socket.destroy();
    for (const h of this.#handshakes) h.socket.destroy();
  }

  #onHandshakeStart(raw: Handshaking): void {
    raw[HANDSHAKE] = this.#handshakes.add({ socket: raw, since: performance.now() });
    raw.once('close', () => {
      this.#handshakeDone(raw);
      this.#checkEmpty();
    });
  }

  #handshakeDone(raw: Handshaking | undefined): void {
    const node = raw?.[HANDSHAKE];
    if (node === undefined) return;
    this.#handshakes.remove(node);
    raw![HANDSHAKE] = undefined;
  }

  #checkEmpty(): void {
    if (this.#connections.size === 0 && this.#handshakes.size === 0) this.#onEmpty?.();
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.#closed) res.setHeader('connection', 'close');
    const node = this.#responses.add(res);
    const conn = (req.socket as WithConnection)[CONNECTION];
    if (conn) conn.active++;
    // One shared listener, its state on the response: no closure or once() wrapper per request (the hot path).
    (res as Tracked)[TRACKED] = { drain: this, conn, node };
    res.on('close', responseClosed);
  }

  /** A response tracked by {@link #onRequest} closed. */
  static closed(t: Tracking): void {
    t.drain.#responses.remove(t.node);
    if (t.conn && --t.conn.active === 0) t.conn.idleSince = performance.now();
  }

  /**
   * Closes the connections idle for at least the linger. Decided in setImmediate, after the event loop's poll
   * phase: after a stall (a busy CPU) timers run before pending socket data is read, and a request already
   * waiting in the kernel would otherwise count as idle time and be reset.
   */
  #sweep(): void {
    setImmediate(() => {
      const now = performance.now();
      for (const conn of this.#connections) if (conn.active === 0 && now - conn.idleSince >= this.#lingerMs) conn.socket.destroy();
      // A handshake the linger did not see finish carries no request, as an idle connection carries none.
      for (const h of this.#handshakes) if (now - h.since >= this.#lingerMs) h.socket.destroy();
    });
  }
}
