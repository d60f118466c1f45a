/**
 * The set-up the Kubernetes status tests share: a real API server (test/helpers/local-kube.ts) with infergate's
 * CRDs and one simulated pod; per test, a fresh namespace holding that pod, Ready, and `serve` watching it and
 * writing status.
 */
import { startGateway, type RunningGateway, type StartGatewayOptions } from '../../src/cli/start-gateway.js';
import type { KubeOptions } from '../../src/config/kube/connect.js';
import { createLogger } from '../../src/logger.js';
import { startFleet, type Fleet } from './fleet.js';
import { applyCrds, createNamespace, startLocalKube, type LocalKube } from './local-kube.js';

export interface KubeStatusEnv {
  kube: LocalKube;
  /** The one simulated pod. */
  fleet: Fleet;
  /** A fresh namespace (`prefix-xxxxxxxx`) holding the pod, labelled `labels`, Ready at the simulator's address. */
  namespaceWithPod(prefix: string, labels: Record<string, string>): Promise<string>;
  /**
   * `serve` in Kubernetes mode over namespace `ns`, writing status, on 127.0.0.1 with a 20 ms debounce and no admin
   * listener; `options` override those, `options.kube` adds to the Kubernetes options. Logs nothing unless
   * INFERGATE_TEST_LOG=debug.
   */
  serve(ns: string, options?: Partial<Omit<StartGatewayOptions, 'kube'>> & { kube?: Partial<KubeOptions> }): Promise<RunningGateway>;
  close(): Promise<void>;
}

/**
 * Starts the API server and applies `crdFiles` (from test/fixtures/kube; GIE's CRDs by default, `gateway-crds.yaml` for
 * Gateway API's), then one simulated pod named `pod` serving `model` on 127.0.<octet>.x.
 */
export async function startKubeStatusEnv(octet: number, pod: string, model: string, crdFiles: readonly string[] = ['crds.yaml']): Promise<KubeStatusEnv> {
  const kube = await startLocalKube();
  let fleet: Fleet;
  try {
    for (const file of crdFiles) await applyCrds(kube.client, 30_000, file);
    fleet = await startFleet(octet, [{ name: pod, labels: {}, model, ttftMs: 0, itlMs: 1 }]);
  } catch (e) {
    await kube.close();
    throw e;
  }
  return {
    kube,
    fleet,
    namespaceWithPod: async (prefix, labels) => {
      const ns = await createNamespace(kube.client, prefix);
      await kube.client.createPod(ns, pod, labels, fleet.port);
      await kube.client.setPodStatus(ns, pod, { ip: fleet.ipOf(pod), ready: true });
      return ns;
    },
    serve: (ns, { kube: kubeOptions, ...options } = {}) => {
      const level = (process.env.INFERGATE_TEST_LOG as 'debug' | undefined) ?? 'silent';
      return startGateway({ host: '127.0.0.1', port: 0, log: createLogger(level), debounceMs: 20, ...options, kube: { kubeconfig: kube.kubeconfigPath, namespace: ns, writePoolStatus: true, ...kubeOptions } });
    },
    close: async () => {
      await fleet.close();
      await kube.close();
    },
  };
}
