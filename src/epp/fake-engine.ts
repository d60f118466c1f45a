/** Test kit: a fake model server on a loopback address, port 0, whose answers a test swaps, counting requests. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Every request goes to `handler` (none answered by default); counts them, and how many overlapped at most. */
export class FakeEngine {
  readonly server: Server;
  readonly host: string;
  handler: Handler = () => undefined;
  hits = 0;
  inFlight = 0;
  maxInFlight = 0;

  constructor(host: string) {
    this.host = host;
    this.server = createServer((req, res) => {
      this.hits++;
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      res.once('close', () => this.inFlight--);
      this.handler(req, res);
    });
  }

  /** Listens on `port` (default 0: any free one) of `host`; resolves with the port. */
  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Ends held requests too. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A port on `host` that just stopped listening, so connections to it are refused. */
export async function refusedPort(host: string): Promise<number> {
  const probe = new FakeEngine(host);
  const port = await probe.listen();
  await probe.close();
  return port;
}
