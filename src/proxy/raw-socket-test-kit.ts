/**
 * For tests of what the front door answers before the handler (client-errors.ts, connection-limits.ts): a real
 * limited server on a loopback address that records what its observer is told, and a raw client socket.
 */
import { connect } from 'node:net';
import type { RequestListener, Server } from 'node:http';
import { createLogger } from '../logger.js';
import type { RequestRecord } from '../observability/request-record.js';
import { DEFAULT_CONNECTION_LIMITS, createLimitedServer } from './connection-limits.js';

export interface LimitedTestServer {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  /** The records its observer was told of, in order (tests empty it themselves). */
  readonly records: RequestRecord[];
  close(): Promise<void>;
}

/** createLimitedServer with the default limits, `handler` behind it, listening on `host` and a free port; its observer pushes to `records`. */
export async function startLimitedTestServer(host: string, handler: RequestListener, records: RequestRecord[] = []): Promise<LimitedTestServer> {
  const server = createLimitedServer(DEFAULT_CONNECTION_LIMITS, handler, createLogger('silent'), undefined, { ended: (r) => records.push(r) });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  return { server, host, port, records, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * Opens a socket from `localAddress` to the server, writes `parts` in turn (a number waits that many ms) and
 * returns everything read (as latin1) until the server closes the connection; rejects after 5 s without a close.
 */
export function readUntilClose(to: Pick<LimitedTestServer, 'host' | 'port'>, localAddress: string, parts: readonly (string | number)[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: to.host, port: to.port, localAddress }, () => {
      void (async () => {
        for (const p of parts) {
          if (typeof p === 'number') await new Promise((r) => setTimeout(r, p));
          else s.write(p);
        }
      })();
    });
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`the server did not close the connection; got ${JSON.stringify(text)}`));
    }, 5000);
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}
