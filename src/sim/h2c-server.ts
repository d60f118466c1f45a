/**
 * The simulator's server over HTTP/2 cleartext with prior knowledge (`sim --h2c`), as a model server behind an
 * InferencePool with `appProtocol: kubernetes.io/h2c` is spoken to. node:http2's compatibility API hands the
 * same request listener a request and response that behave as node:http's for everything the simulator uses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants, createServer, Http2ServerResponse, type Http2Server, type Http2ServerRequest, type ServerHttp2Session } from 'node:http2';

/** The node:http request listener the simulator's router is (src/sim/sim-router.ts). */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export interface H2cServer {
  readonly server: Http2Server;
  /** Ends every session gracefully (GOAWAY, then close once its streams are done); call once nothing is in flight. */
  closeSessions(): void;
}

/**
 * node:http2's compatibility response lacks node:http's `destroyed`, which the handlers read to see a client
 * that left (an RST_STREAM here, a closed socket over HTTP/1.1).
 */
class SimH2Response extends Http2ServerResponse {}
Object.defineProperty(SimH2Response.prototype, 'destroyed', {
  get(this: Http2ServerResponse): boolean {
    return this.stream.destroyed;
  },
});

/**
 * An h2c server calling `listener` for each stream. Once `isClosing()`, new streams are refused with
 * RST_STREAM(REFUSED_STREAM), which tells the gateway they were not processed and may go elsewhere (RFC 9113
 * §8.7), as a reset connection does over HTTP/1.1; streams already accepted finish.
 */
export function createH2cServer(listener: RequestListener, isClosing: () => boolean): H2cServer {
  const sessions = new Set<ServerHttp2Session>();
  const server = createServer({ Http2ServerResponse: SimH2Response }, (req: Http2ServerRequest, res: Http2ServerResponse) => {
    if (isClosing()) {
      req.stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    // The compatibility objects mirror node:http's for what the router and handlers use (see SimH2Response).
    listener(req as unknown as IncomingMessage, res as unknown as ServerResponse);
  });
  server.on('session', (s: ServerHttp2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  return {
    server,
    closeSessions: () => {
      for (const s of sessions) s.close();
    },
  };
}
