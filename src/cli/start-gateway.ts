/** Composition root of the standalone gateway: a config source (files or the Kubernetes API) + Gateway, started and stoppable as one. */
import type { AddressInfo } from 'node:net';
import { FileConfigSource } from '../config/file-source.js';
import type { KubeConfigSource } from '../config/kube/kube-source.js';
import { DEFAULT_GATEWAY_OPTIONS, Gateway, type GatewayOptions } from '../proxy/gateway.js';
import { createLogger } from '../observability/logger.js';
import { assertOneSource, connectKube, type KubeOptions, type KubeWiring } from '../config/kube/connect.js';

export interface StartGatewayOptions extends Partial<GatewayOptions> {
  /** A YAML file or a directory of them. Exactly one of `configPath` and `kube`. */
  configPath?: string;
  /** Read the configuration from the Kubernetes API (list + watch). */
  kube?: KubeOptions;
  /**
   * Kubernetes only: resolve once the gateway listens, before the first sync (the CLI does, so /healthz answers
   * and /readyz says what it waits for). Default false: resolve after the first snapshot is in force.
   */
  skipSyncWait?: boolean;
  gatewayName?: string;
  debounceMs?: number;
}

export interface RunningGateway {
  gateway: Gateway;
  source: FileConfigSource | KubeConfigSource;
  /** Set in Kubernetes mode. */
  kube?: KubeWiring;
  address: AddressInfo;
  url: string;
  close(): Promise<void>;
}

export async function startGateway(opts: StartGatewayOptions): Promise<RunningGateway> {
  assertOneSource(opts.configPath, opts.kube);
  const { configPath, kube: kubeOpts, skipSyncWait, gatewayName, debounceMs, ...gwOpts } = opts;
  let kube: KubeWiring | undefined;
  const options: GatewayOptions = {
    ...DEFAULT_GATEWAY_OPTIONS,
    log: createLogger('info'),
    ...stripUndefined(gwOpts),
    ...(kubeOpts ? { isolateConfigProblems: true, notReadyReason: () => kube?.source.notReadyReason() ?? 'connecting to the Kubernetes API' } : {}),
  };
  const gateway = new Gateway(options);
  const common = { ...(gatewayName !== undefined ? { gatewayName } : {}), ...(debounceMs !== undefined ? { debounceMs } : {}) };
  let file: FileConfigSource | undefined;
  const stopSource = async (): Promise<void> => {
    file?.close();
    await kube?.close();
  };
  try {
    let address: AddressInfo;
    if (configPath !== undefined) {
      file = new FileConfigSource(configPath, common, options.log, (s) => gateway.applySnapshot(s));
      await file.start();
      address = await gateway.listen();
    } else {
      kube = connectKube(kubeOpts!, gateway, { ...common, log: options.log });
      // Listen first: liveness must answer while a large cluster is listed, and /readyz explains the wait.
      address = await gateway.listen();
      options.log.info(`reading configuration from the Kubernetes API at ${kube.describe}`);
      kube.source.start();
      if (!skipSyncWait) await kube.source.firstSync();
    }
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return {
      gateway,
      source: (file ?? kube?.source)!,
      ...(kube ? { kube } : {}),
      address,
      url: `http://${host}:${address.port}`,
      close: async () => {
        await stopSource();
        await gateway.close();
      },
    };
  } catch (e) {
    await stopSource().catch(() => undefined);
    await gateway.close().catch(() => undefined);
    throw e;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
