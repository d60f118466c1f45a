/** Composition root of the standalone gateway: a config source (files or the Kubernetes API) + Gateway, started and stoppable as one. */
import type { AddressInfo } from 'node:net';
import { listenNamed, missingConfigPathNamed } from './startup-failure.js';
import { editGuardFor, type ConfigEditOptions, type EditGuard } from '../config/edit-guard.js';
import { FileConfigSource } from '../config/file-source.js';
import type { KubeConfigSource } from '../config/kube/kube-source.js';
import { DEFAULT_GATEWAY_OPTIONS, Gateway, type GatewayOptions } from '../proxy/gateway.js';
import { createLogger } from '../logger.js';
import { AdminServer } from '../observability/admin-server.js';
import { GatewayMetrics } from '../observability/metrics/gateway-metrics.js';
import { flowControlReport } from '../flowcontrol/flow-control-report.js';
import { sendJson } from '../proxy/send-error.js';
import { drainCutEvent } from '../proxy/cut-answer.js';
import { composeObservers } from '../observability/compose-observers.js';
import { DashboardObserver } from '../observability/dashboard/dashboard-observer.js';
import { mountDashboard } from '../observability/dashboard/dashboard-routes.js';
import type { Tracing } from '../observability/tracing/tracing.js';
import { startTracing } from '../observability/tracing/start-tracing.js';
import { AccessLog, type AccessLogTarget } from '../observability/access-log.js';
import { mountProfiling } from '../observability/profiling.js';
import type { TracingConfig } from '../observability/tracing/tracing-config.js';
import { GracefulShutdown, type ShutdownOptions, type ShutdownReport } from '../lifecycle/shutdown.js';
import { assertOneSource, connectKube, type KubeOptions, type KubeWiring } from '../config/kube/connect.js';
import { secretReader } from '../config/kube/read-secret.js';

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
  /** Files only: how long files must stay unchanged before a reload reads them (default 300 ms). */
  fileSettleMs?: number;
  /** Which configuration changes are held back, and for how long (--allow-empty-config and friends). */
  configEdits?: ConfigEditOptions;
  /**
   * The admin listener's port (GET /metrics, GET /debug/scheduling; 0 = ephemeral). The CLI always sets it
   * (`--admin-port`, default 9090); left unset, no admin listener is started (the metrics are still kept).
   */
  adminPort?: number;
  /** Its address; the gateway's `host` when unset. */
  adminHost?: string;
  /** `--enable-pprof`: CPU and heap profiles on the admin port (off: they answer 404 debug_disabled). */
  enablePprof?: boolean;
  /** OpenTelemetry tracing (`--otlp-endpoint`, `OTEL_*`; see tracingSettings): off, and nothing built, when unset. */
  tracing?: TracingConfig;
  /** `--access-log`: one JSON line per request to stdout or a file; off when unset. */
  accessLog?: AccessLogTarget;
}

export interface RunningGateway {
  gateway: Gateway;
  source: FileConfigSource | KubeConfigSource;
  /** Between the source and the gateway: holds back changes that remove too much. */
  guard: EditGuard;
  /** Set in Kubernetes mode. */
  kube?: KubeWiring;
  address: AddressInfo;
  url: string;
  /** Every family GET /metrics serves, and the hooks that feed them. */
  metrics: GatewayMetrics;
  /** Set when `adminPort` was given. */
  admin?: AdminServer;
  /** `http://host:port` of the admin listener, when there is one. */
  adminUrl?: string;
  /** Set when tracing is on; close() and shutdown() flush it last. */
  tracing?: Tracing;
  /** Set with `--access-log FILE` or `stdout` (SIGHUP reopens a file, for log rotation). */
  accessLog?: AccessLog;
  close(): Promise<void>;
  /**
   * The graceful stop a signal starts: /readyz fails, new connections are accepted for the delay, then the
   * listener drains up to the timeout (src/lifecycle/shutdown.ts); then as close().
   */
  shutdown(options: ShutdownOptions): Promise<ShutdownReport>;
}

export async function startGateway(opts: StartGatewayOptions): Promise<RunningGateway> {
  assertOneSource(opts.configPath, opts.kube);
  const { configPath, kube: kubeOpts, skipSyncWait, gatewayName, debounceMs, fileSettleMs, configEdits = {}, adminPort, adminHost, enablePprof, tracing: tracingConfig, accessLog: accessLogTarget, ...gwOpts } = opts;
  let kube: KubeWiring | undefined;
  // First: a file that cannot be opened stops the start before anything else is started.
  const accessLog = accessLogTarget ? new AccessLog(accessLogTarget, gwOpts.log ?? createLogger('info')) : undefined;
  const metrics = new GatewayMetrics();
  // The dashboard (GET / on the admin listener) charts requests only where there is a listener to show them.
  const dashboard = adminPort !== undefined ? new DashboardObserver() : undefined;
  // Off unless configured: then no tracer exists and no observer is registered, at no cost per request.
  const tracing = tracingConfig ? await startTracing(tracingConfig, gwOpts.log ?? createLogger('info')) : undefined;
  const options: GatewayOptions = {
    ...DEFAULT_GATEWAY_OPTIONS,
    log: createLogger('info'),
    observer: composeObservers([metrics.observer, dashboard, tracing?.observer, accessLog]),
    ...stripUndefined(gwOpts),
    ...(kubeOpts ? { isolateConfigProblems: true, notReadyReason: () => kube?.source.notReadyReason() ?? 'connecting to the Kubernetes API' } : {}),
    // Pools may name a Secret holding their pods' API key: read with the same credentials as the configuration.
    ...(kubeOpts ? { upstreamKeys: { ...gwOpts.upstreamKeys, readSecret: secretReader(kubeOpts) } } : {}),
  };
  const gateway = new Gateway(options);
  metrics.attach(gateway);
  options.tenancy?.metrics.register(metrics.registry);
  // A rejected keys edit (a revocation with a typo) leaves the old keys working: say so where the config's own
  // rejections show (/readyz details, the dashboard's issues), not in a log line alone.
  const keys = options.tenancy?.keys;
  if (keys) gateway.readinessDetails.set('api_keys', () => (keys.problem !== undefined ? { rejected: { message: keys.problem } } : undefined));
  const admin = adminPort !== undefined ? new AdminServer({ host: adminHost ?? options.host, port: adminPort, metrics, decisions: gateway.decisions, log: options.log }) : undefined;
  // Flow control's queues, bands and flows (src/flowcontrol); an empty list when no pool has the gate on.
  admin?.route('/debug/flow-control', (_req, res) => sendJson(res, 200, { pools: flowControlReport(gateway.flowControl) }));
  if (admin && dashboard) mountDashboard(admin, { mode: 'serve', gateway, decisions: gateway.decisions, traffic: dashboard, rejectedObjects: () => kube?.source.rejected ?? new Map() });
  if (admin) mountProfiling(admin, enablePprof === true);
  // Every snapshot from either source passes the guard (issue #10): an emptied config is held back, not applied.
  const guard = editGuardFor(configPath !== undefined ? 'files' : 'kubernetes', configEdits, options.log, metrics.countingReloads((s) => gateway.applySnapshot(s)));
  gateway.readinessDetails.set('config', () => guard.report());
  metrics.watchHeld(() => guard.held !== undefined);
  const common = { ...(gatewayName !== undefined ? { gatewayName } : {}), ...(debounceMs !== undefined ? { debounceMs } : {}) };
  let file: FileConfigSource | undefined;
  const stopSource = async (): Promise<void> => {
    guard.close();
    file?.close();
    await kube?.close();
  };
  const onRejected = (m: string): void => {
    guard.rejected(m);
    metrics.configReloaded(false);
  };
  // A listener that cannot start says which flags chose its address.
  const listenTraffic = (): Promise<AddressInfo> => listenNamed(() => gateway.listen(), 'the gateway', '--host, --port', options.host, options.port);
  const listenAdmin = async (): Promise<void> => {
    if (admin) await listenNamed(() => admin.listen(), 'the admin listener', '--admin-host, --admin-port', adminHost ?? options.host, adminPort!);
  };
  try {
    let address: AddressInfo;
    if (configPath !== undefined) {
      const fileOpts = { ...common, ...(fileSettleMs !== undefined ? { settleMs: fileSettleMs } : {}), allowEmptyFiles: configEdits.allowEmptyConfig === true, onRejected };
      file = new FileConfigSource(configPath, fileOpts, options.log, (s) => guard.offer(s));
      await file.start().catch((e: unknown) => {
        throw missingConfigPathNamed(e, configPath);
      });
      address = await listenTraffic();
      await listenAdmin();
    } else {
      // The gateway gives endpointPickerRefs a meaning, so it watches the Services they name (src/epp/picker-ref.ts).
      kube = await connectKube({ followPickerRefs: true, ...kubeOpts! }, { applySnapshot: (s, c) => guard.offer(s, c), schedulers: gateway.schedulers }, { ...common, log: options.log });
      const source = kube.source;
      metrics.watchKube(() => source.reflectors());
      metrics.watchIgnored(() => source.rejected);
      // Readiness stays while watches fail (the last snapshot serves); /readyz and the dashboard say which and why.
      gateway.readinessDetails.set('kubernetes', () => source.watchProblems());
      // Listen first: liveness must answer while a large cluster is listed, and /readyz explains the wait.
      address = await listenTraffic();
      // Scrapes answer while a large cluster is listed: the watches' state is what an operator needs then.
      await listenAdmin();
      options.log.info(`reading configuration from the Kubernetes API at ${kube.describe}`);
      kube.source.start();
      if (!skipSyncWait) await kube.source.firstSync();
    }
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return {
      gateway,
      source: (file ?? kube?.source)!,
      guard,
      ...(kube ? { kube } : {}),
      address,
      url: `${gateway.scheme}://${host}:${address.port}`,
      metrics,
      ...(admin ? { admin, adminUrl: admin.url } : {}),
      ...(tracing ? { tracing } : {}),
      ...(accessLog ? { accessLog } : {}),
      close: async () => {
        await stopSource();
        await gateway.close();
        await options.tenancy?.close();
        await admin?.close();
        metrics.close();
        // Last: the spans of the requests close() let finish are exported.
        await accessLog?.close();
        await tracing?.shutdown();
      },
      shutdown: async (shutdown) => {
        // The source keeps running meanwhile: pods may change under the requests still in flight.
        const drain = gateway.drain;
        const target = {
          unit: 'requests',
          failReadiness: () => gateway.failReadiness(),
          // Flow control: queued requests still dispatch during the drain; new ones that would queue get 503.
          drain: () => {
            gateway.flowControl.beginShutdown();
            return drain.drain();
          },
          inFlight: () => drain.inFlight,
          // Requests still queued at the timeout get 503 rejected-shutting-down before the connections are cut.
          cut: () => {
            gateway.flowControl.rejectQueued();
            // An event stream still open is told in-band why it ends (src/proxy/cut-answer.ts).
            setImmediate(() => drain.cut((res) => drainCutEvent(res, shutdown.drainTimeoutMs)));
          },
        };
        const report = await new GracefulShutdown(target, shutdown, options.log).run();
        await stopSource();
        await gateway.close(0);
        await options.tenancy?.close();
        // Last: Prometheus scrapes the drain until the end.
        await admin?.close();
        metrics.close();
        await accessLog?.close();
        await tracing?.shutdown();
        return report;
      },
    };
  } catch (e) {
    await stopSource().catch(() => undefined);
    await gateway.close().catch(() => undefined);
    await admin?.close().catch(() => undefined);
    metrics.close();
    await accessLog?.close();
    await tracing?.shutdown();
    throw e;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
