/**
 * A stand-in for the pods of GIE's conformance suite: Gateway API's echo server (`echo-basic`), which answers every
 * method on every path, `GET /v1/models` included, with 200 and a JSON account of the request it received. The suite
 * reads that account to judge the Gateway: the Host, path and method the pod saw, its pod name and namespace, and
 * the port it listens on (`httpPort`, for data-parallel ranks). It is not a model server: it lists no models.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createH2cServer, type Http2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';

/** What the echo answers: the fields of the suite's captured request that it compares. */
export interface EchoAccount {
  path: string;
  host: string;
  method: string;
  proto: string;
  headers: Record<string, string | string[] | undefined>;
  namespace: string;
  pod: string;
  httpPort: string;
}

export interface EchoPod {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface EchoPodOptions {
  host: string;
  /** 0 for an ephemeral port. */
  port: number;
  pod: string;
  namespace: string;
  /** Serve cleartext HTTP/2 (prior knowledge) only, as the suite's h2c port does; else HTTP/1.1 only. */
  h2c?: boolean;
}

export async function startEchoPod(opts: EchoPodOptions): Promise<EchoPod> {
  let port = opts.port;
  const answer = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void => {
    req.resume();
    req.on('end', () => {
      const account: EchoAccount = {
        path: req.url ?? '',
        // HTTP/2 carries the Host as :authority.
        host: req.headers[':authority']?.toString() ?? req.headers.host ?? '',
        method: req.method ?? '',
        proto: `HTTP/${req.httpVersion}`,
        headers: req.headers,
        namespace: opts.namespace,
        pod: opts.pod,
        httpPort: String(port),
      };
      const body = JSON.stringify(account);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  };
  const server: Server | Http2Server = opts.h2c ? createH2cServer(answer) : createServer(answer);
  // An h2c server closes only once its sessions do: the gateway keeps its own open.
  const sessions = new Set<{ destroy(): void }>();
  if (opts.h2c) (server as Http2Server).on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    host: opts.host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}
