/** Connects a gateway to the Kubernetes API: the watch-based config source and, as the gateway, status (pool, route, Gateway). */
import type { Logger } from '../../logger.js';
import type { ConfigSnapshot } from '../snapshot.js';
import type { OfferContext } from '../edit-guard.js';
import { KubeClient } from './kube-client.js';
import { KubeConfigSource, type ReflectorTuning } from './kube-source.js';
import { loadKubeTarget, type KubeTargetOptions } from './kube-target.js';
import { PoolStatusWriter } from './status-writer.js';
import type { PickerRef } from '../../epp/picker-ref.js';

/** What the source needs of the gateway (proxy/gateway.ts's Gateway): where snapshots go, and picker problems for status. */
export interface SnapshotSink {
  applySnapshot(snapshot: ConfigSnapshot, context?: OfferContext): Promise<void>;
  readonly schedulers: { readonly problems: ReadonlyMap<string, string>; forPool(key: string): { readonly origin: string } | undefined; pickerRef?(key: string): PickerRef | undefined };
}

export interface KubeOptions extends KubeTargetOptions {
  /**
   * Write status as the gateway: InferencePool and HTTPRoute `status.parents`, and its Gateways and GatewayClasses
   * (`serve`; not `extproc`, where the Gateway implementation owns it).
   */
  writePoolStatus?: boolean;
  /** `--gateway-address`: written to the status.addresses of infergate's Gateways that set no spec.addresses. */
  gatewayAddresses?: readonly string[];
  /** Watch the Services pools' endpointPickerRefs name, so a ref to a missing one is known (`serve`; not `extproc`). */
  followPickerRefs?: boolean;
  /** Test tuning: watch timeouts and backoff. */
  reflector?: ReflectorTuning;
  newWatchGraceMs?: number;
  forbiddenRetryMs?: number;
  /** Test tuning: KubeSourceOptions.reconnectCautionMs. */
  reconnectCautionMs?: number;
}

export interface KubeWiring {
  source: KubeConfigSource;
  status: PoolStatusWriter | undefined;
  /** For logs: the API server, credentials and namespace in use. */
  describe: string;
  close(): Promise<void>;
}

/** Builds (does not start) the source; rejects when no credentials can be found. */
export async function connectKube(kube: KubeOptions, gateway: SnapshotSink, opts: { gatewayName?: string; log: Logger; debounceMs?: number }): Promise<KubeWiring> {
  const target = await loadKubeTarget(kube);
  const client = new KubeClient(target);
  const status = kube.writePoolStatus
    ? new PoolStatusWriter({ client, log: opts.log, ...(opts.gatewayName !== undefined ? { gatewayName: opts.gatewayName } : {}), ...(kube.forbiddenRetryMs !== undefined ? { forbiddenRetryMs: kube.forbiddenRetryMs } : {}), ...(kube.gatewayAddresses ? { gatewayAddresses: kube.gatewayAddresses } : {}) })
    : undefined;
  const source = new KubeConfigSource({
    client,
    log: opts.log,
    ...(opts.gatewayName !== undefined ? { gatewayName: opts.gatewayName } : {}),
    ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}),
    ...(kube.reflector ? { reflector: kube.reflector } : {}),
    ...(kube.newWatchGraceMs !== undefined ? { newWatchGraceMs: kube.newWatchGraceMs } : {}),
    ...(kube.reconnectCautionMs !== undefined ? { reconnectCautionMs: kube.reconnectCautionMs } : {}),
    ...(kube.followPickerRefs ? { followPickerRefs: true } : {}),
    // The gateway writes Gateway and GatewayClass status too, so it reads them (status-writer.ts).
    ...(kube.writePoolStatus ? { followGateways: true } : {}),
    apply: (s, c) => gateway.applySnapshot(s, c),
    afterApply: (snapshot, src) => {
      void status?.update({
        snapshot,
        pools: () => src.rawPools(),
        routes: () => src.rawRoutes(),
        gateways: () => src.rawGateways(),
        gatewayClasses: () => src.rawGatewayClasses(),
        rejected: src.rejected,
        pickerProblems: gateway.schedulers.problems,
        pickerOrigin: (key) => gateway.schedulers.forPool(key)?.origin,
        pickerRef: (key) => gateway.schedulers.pickerRef?.(key),
      });
    },
  });
  return {
    source,
    status,
    describe: target.describe,
    close: async () => {
      await source.close();
      await status?.close();
    },
  };
}

/**
 * One snapshot of the cluster, for `explain`: lists everything (as the first sync of `serve --kube`, the
 * Services pools' endpointPickerRefs name included), then
 * stops watching. Rejects after `timeoutMs` saying which lists are still pending and why, or at once when a list
 * is refused for good (401, 403, a CRD not installed).
 */
export async function loadSnapshotFromKube(kube: KubeTargetOptions & { reflector?: ReflectorTuning }, opts: { gatewayName?: string; log: Logger; timeoutMs?: number }): Promise<ConfigSnapshot> {
  const client = new KubeClient(await loadKubeTarget(kube));
  const source = new KubeConfigSource({
    client,
    log: opts.log,
    debounceMs: 0,
    // A 403 or a missing CRD is reported at once, not after the whole timeout.
    failFast: true,
    // As `serve --kube`: a ref to a Service that does not exist is explained as the 500 the gateway answers.
    followPickerRefs: true,
    ...(opts.gatewayName !== undefined ? { gatewayName: opts.gatewayName } : {}),
    ...(kube.reflector ? { reflector: kube.reflector } : {}),
    apply: async () => undefined,
  });
  source.start();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no full sync from the Kubernetes API after ${timeoutMs} ms: ${source.notReadyReason()}`)), timeoutMs);
    });
    return await Promise.race([source.firstSync(), timeout]);
  } finally {
    clearTimeout(timer);
    await source.close();
  }
}

/** Every composition root takes exactly one configuration source: files (`-f`) or the Kubernetes API. */
export function assertOneSource(configPath: string | undefined, kube: object | undefined): void {
  if ((configPath === undefined) === (kube === undefined)) throw new Error('give exactly one configuration source: a file (-f) or the Kubernetes API (--kube)');
}
