/** Helpers for the bench tests: simulators on the bench's loopback addresses and a tiny round-robin proxy. */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import type { RunningSimulator, SimulatorOptions } from '../sim/simulator.js';
import { startSimulator } from '../sim/simulator.js';
import { SERVED_ENDPOINT_HEADER } from './served-endpoint.js';

/** Loopback addresses 127.0.11.x are reserved for the bench tests, so parallel suites never collide. */
export const TEST_HOST = '127.0.11.1';
export const SECOND_HOST = '127.0.11.2';

/** A fast simulator on TEST_HOST, port 0, closed when the test ends. */
export async function benchSimulator(t: TestContext, opts: Partial<SimulatorOptions> = {}): Promise<RunningSimulator> {
  const sim = await startSimulator({ model: 'base-model', host: TEST_HOST, port: 0, ttftMs: 5, itlMs: 1, maxNumSeqs: 16, ...opts });
  t.after(() => sim.close());
  return sim;
}

/**
 * A model-blind proxy, like a plain Kubernetes Service: request n goes to `targets[n % targets.length]`, and the
 * response names the target in the gateway's served-endpoint header (`misreport` names the next one instead).
 * Returns its base URL.
 */
export async function roundRobinProxy(t: TestContext, targets: RunningSimulator[], misreport = false): Promise<string> {
  let n = 0;
  const server = createServer((req, res) => {
    const i = n++ % targets.length;
    const target = targets[i] as RunningSimulator;
    const named = targets[misreport ? (i + 1) % targets.length : i] as RunningSimulator;
    const upstream = httpRequest({ host: target.host, port: target.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, { ...up.headers, [SERVED_ENDPOINT_HEADER]: `${named.host}:${named.port}` });
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, TEST_HOST, resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://${TEST_HOST}:${(server.address() as AddressInfo).port}`;
}
