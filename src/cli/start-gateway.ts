/** Composition root of the standalone gateway: file config source + Gateway, started and stoppable as one. */
import type { AddressInfo } from 'node:net';
import { FileConfigSource } from '../config/file-source.js';
import { DEFAULT_GATEWAY_OPTIONS, Gateway, type GatewayOptions } from '../proxy/gateway.js';
import { createLogger } from '../observability/logger.js';

export interface StartGatewayOptions extends Partial<GatewayOptions> {
  /** A YAML file or a directory of them. */
  configPath: string;
  gatewayName?: string;
  debounceMs?: number;
}

export interface RunningGateway {
  gateway: Gateway;
  source: FileConfigSource;
  address: AddressInfo;
  url: string;
  close(): Promise<void>;
}

export async function startGateway(opts: StartGatewayOptions): Promise<RunningGateway> {
  const options: GatewayOptions = { ...DEFAULT_GATEWAY_OPTIONS, log: createLogger('info'), ...stripUndefined(opts) };
  const gateway = new Gateway(options);
  const sourceOpts = { ...(opts.gatewayName !== undefined ? { gatewayName: opts.gatewayName } : {}), ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}) };
  const source = new FileConfigSource(opts.configPath, sourceOpts, options.log, (s) => gateway.applySnapshot(s));
  try {
    await source.start();
    const address = await gateway.listen();
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return {
      gateway,
      source,
      address,
      url: `http://${host}:${address.port}`,
      close: async () => {
        source.close();
        await gateway.close();
      },
    };
  } catch (e) {
    source.close();
    await gateway.close().catch(() => undefined);
    throw e;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
