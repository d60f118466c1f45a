/** Starts simulated vLLM pods on their own loopback addresses (one shared port, as a pool's targetPort) for end-to-end tests. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/sim/simulator.js';
import { startGateway, type RunningGateway, type StartGatewayOptions } from '../../src/cli/start-gateway.js';
import { createLogger } from '../../src/logger.js';
export { allowlistYaml, baseModelRouteYaml, podYaml, poolYaml, prefixRouteYaml } from '../../src/config/manifests.js';

export interface Replica extends Omit<SimulatorOptions, 'host' | 'port' | 'podName'> {
  name: string;
  labels: Record<string, string>;
}

export interface Fleet {
  port: number;
  sims: Map<string, RunningSimulator>;
  /** Pod name -> its IP. */
  ipOf(name: string): string;
  /** Endpoint address (ip:port) -> the simulator there. */
  byAddress(address: string): RunningSimulator | undefined;
  close(): Promise<void>;
}

/**
 * Each test file passes its own third octet (127.0.<octet>.x) so files running in parallel never collide.
 * The first simulator takes an ephemeral port; the others bind the same port on their own addresses.
 */
export async function startFleet(octet: number, replicas: readonly Replica[]): Promise<Fleet> {
  const sims = new Map<string, RunningSimulator>();
  let port = 0;
  try {
    for (const [i, r] of replicas.entries()) {
      const { name, labels: _labels, ...opts } = r;
      const sim = await startSimulator({ ...opts, host: `127.0.${octet}.${i + 2}`, port, podName: name });
      port = sim.port;
      sims.set(name, sim);
    }
  } catch (e) {
    await Promise.all([...sims.values()].map((s) => s.close()));
    throw e;
  }
  return {
    port,
    sims,
    ipOf: (name) => {
      const s = sims.get(name);
      if (!s) throw new Error(`no replica ${name}`);
      return s.host;
    },
    byAddress: (address) => [...sims.values()].find((s) => `${s.host}:${s.port}` === address),
    close: async () => {
      await Promise.all([...sims.values()].map((s) => s.close()));
    },
  };
}

export interface TempConfig {
  dir: string;
  write(file: string, text: string): Promise<void>;
  remove(): Promise<void>;
}

export async function tempConfig(files: Record<string, string>): Promise<TempConfig> {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-e2e-'));
  const write = (file: string, text: string): Promise<void> => writeFile(join(dir, file), text);
  for (const [f, t] of Object.entries(files)) await write(f, t);
  return { dir, write, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A gateway on 127.0.0.1, ephemeral traffic and admin ports (`gw.adminUrl`), logging only errors (set
 * INFERGATE_TEST_LOG=debug to see more).
 */
export function startTestGateway(configPath: string, opts: Partial<StartGatewayOptions> = {}): Promise<RunningGateway> {
  const level = (process.env.INFERGATE_TEST_LOG as 'debug' | undefined) ?? 'silent';
  return startGateway({ configPath, host: '127.0.0.1', port: 0, adminPort: 0, log: createLogger(level), debounceMs: 50, ...opts });
}

/** Polls `check` every 50 ms until it returns true or `timeoutMs` passes; returns whether it held. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
