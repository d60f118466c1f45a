/**
 * Composition root of `infergate extproc`: the same configuration machinery as `serve` (file source,
 * Gateway: snapshot, datastore, model discovery, metrics scraping, per-pool schedulers) without its HTTP
 * listener, behind Envoy ext_proc servers for BBR and the EPP, a gRPC health server and the admin listener
 * (/metrics, /readyz, /debug/scheduling, /debug/flow-control).
 */
import { Server, ServerCredentials, type ServerCredentials as Credentials } from '@grpc/grpc-js';
import { editGuardFor, type ConfigEditOptions, type EditGuard } from '../config/edit-guard.js';
import { FileConfigSource } from '../config/file-source.js';
import type { KubeConfigSource } from '../config/kube/kube-source.js';
import { assertOneSource, connectKube, type KubeOptions, type KubeWiring } from '../config/kube/connect.js';
import type { ConfigText } from '../epp/pool-schedulers.js';
import type { MetricsScraping } from '../epp/metrics/metrics-scraper.js';
import type { Logger } from '../logger.js';
import { DEFAULT_GATEWAY_OPTIONS, Gateway, type GatewayOptions } from '../proxy/gateway.js';
import { BodyLimits } from '../proxy/body-limits.js';
import { secretReader } from '../config/kube/read-secret.js';
import type { GatewayState } from '../plan/plan-request.js';
import { BbrProcessor } from './bbr-processor.js';
import { EppProcessor } from './epp-processor.js';
import { DecisionLog, warnDebugDecisions } from '../observability/decision-log.js';
import { AdminPathPolicy } from '../policy/admin-paths.js';
import { ExtprocMetrics } from './extproc-metrics.js';
import { AdminServer, DEFAULT_ADMIN_PORT } from '../observability/admin-server.js';
import { GatewayMetrics } from '../observability/metrics/gateway-metrics.js';
import { DashboardObserver } from '../observability/dashboard/dashboard-observer.js';
import { composeObservers } from '../observability/compose-observers.js';
import type { RequestObserver } from '../observability/request-record.js';
import { mountDashboard } from '../observability/dashboard/dashboard-routes.js';
import { HealthStatus } from './health-service.js';
import { processHandler, type RequestBodyMode, type StreamOptions } from './processing-stream.js';
import type { Processor } from './processor.js';
import { extProcServiceDefinition, healthServiceDefinition } from '../envoy/protos.js';
import type { CertificatePair } from './self-signed-certificate.js';
import { servingCredentials } from './serving-credentials.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from '../bbr/json-limits.js';
import { flowControlReport } from '../flowcontrol/flow-control-report.js';
import { sendJson } from '../proxy/send-error.js';
import { GracefulShutdown, type ShutdownOptions, type ShutdownReport } from '../lifecycle/shutdown.js';
import type { Tracing } from '../observability/tracing/tracing.js';
import { startTracing } from '../observability/tracing/start-tracing.js';
import type { TracingConfig } from '../observability/tracing/tracing-config.js';
import { mountProfiling } from '../observability/profiling.js';

export interface ExtprocOptions {
  /** A YAML file or a directory of them, watched (as `serve -f`). Exactly one of `configPath` and `kube`. */
  configPath?: string;
  /** Read the configuration from the Kubernetes API. Pool status is left to the cluster's Gateway implementation. */
  kube?: KubeOptions;
  host: string;
  /** 0 picks an ephemeral port (tests). */
  bbrPort: number;
  eppPort: number;
  healthPort: number;
  /** The admin listener: GET /metrics, /readyz and /debug/scheduling (`--admin-port`, alias `--metrics-port`). */
  adminPort: number;
  /** Its address; `host` when unset (`--admin-host`). */
  adminHost?: string;
  /** `--enable-pprof`: CPU and heap profiles on the admin port, as `serve`. */
  enablePprof?: boolean;
  /** TLS on the two ext_proc ports (health and metrics stay plaintext, as Kubernetes gRPC probes need). */
  secureServing: boolean;
  certFile?: string;
  keyFile?: string;
  maxBodyBytes: number;
  /** The limit of multipart/form-data bodies (audio uploads), as `serve`'s --max-upload-bytes; default DEFAULT_MAX_UPLOAD_BYTES. */
  maxUploadBytes?: number;
  /** Bounds on a request body's JSON (--max-json-depth, --max-json-values), as `serve`; unset fields keep their defaults. */
  jsonLimits?: Partial<JsonLimits>;
  assumedBodyMode: RequestBodyMode;
  strictAllowlist: boolean;
  gatewayName?: string;
  modelsRefreshMs: number;
  refreshMetricsIntervalMs: number;
  /** `--metrics-scraping`, as `serve`; default DEFAULT_METRICS_SCRAPING. */
  metricsScraping?: MetricsScraping;
  eppConfig?: ConfigText;
  debounceMs?: number;
  /** Files only: how long files must stay unchanged before a reload reads them (default 300 ms). */
  fileSettleMs?: number;
  /** Which configuration changes are held back, and for how long (as `serve`). */
  configEdits?: ConfigEditOptions;
  /** How long open streams may finish in close() before they are cut (tests); a signal's shutdown() drains instead. */
  shutdownGraceMs: number;
  /** Recent picks, with every plugin's scores, kept for `GET /debug/scheduling` on the metrics port (0 = off). */
  debugDecisions: number;
  /** Show request ids verbatim in `/debug/scheduling` instead of a keyed hash of each. */
  debugShowRequestIds?: boolean;
  /** vLLM admin paths the picker lets through (`*` for all); requests for the others get 403. */
  allowAdminPaths?: readonly string[];
  /** Kubernetes only: resolve before the first sync (readiness stays NOT_SERVING until it is done). */
  skipSyncWait?: boolean;
  /** OpenTelemetry tracing (`--otlp-endpoint`, `OTEL_*`): off, and nothing built, when unset. */
  tracing?: TracingConfig;
  /** The pools' upstream API keys (`--upstream-api-key-file`, `INFERGATE_UPSTREAM_API_KEY`); Secrets are read with `kube`. */
  upstreamKeys?: GatewayOptions['upstreamKeys'];
  /** Where the precise prefix plugins' KV events are ingested (`--kv-events-ingestion`), and stream tuning (tests). */
  kvEvents?: GatewayOptions['kvEvents'];
  log: Logger;
}

export const DEFAULT_EXTPROC_OPTIONS: Omit<ExtprocOptions, 'configPath' | 'kube' | 'log'> = {
  host: '0.0.0.0',
  bbrPort: 9004,
  eppPort: 9002,
  healthPort: 9003,
  adminPort: DEFAULT_ADMIN_PORT,
  secureServing: true,
  maxBodyBytes: DEFAULT_GATEWAY_OPTIONS.maxBodyBytes,
  assumedBodyMode: 'FULL_DUPLEX_STREAMED',
  strictAllowlist: DEFAULT_GATEWAY_OPTIONS.strictAllowlist,
  modelsRefreshMs: DEFAULT_GATEWAY_OPTIONS.modelsRefreshMs,
  refreshMetricsIntervalMs: DEFAULT_GATEWAY_OPTIONS.refreshMetricsIntervalMs,
  shutdownGraceMs: 5000,
  debugDecisions: DEFAULT_GATEWAY_OPTIONS.debugDecisions,
};

export interface RunningExtproc {
  gateway: Gateway;
  source: FileConfigSource | KubeConfigSource;
  /** Between the source and the gateway: holds back changes that remove too much. */
  guard: EditGuard;
  metrics: ExtprocMetrics;
  /** Every family the admin listener's /metrics serves (the gateway's, llm-d's and GIE's, and the ext_proc servers'). */
  gatewayMetrics: GatewayMetrics;
  admin: AdminServer;
  health: HealthStatus;
  host: string;
  /** `metrics` is the admin port, under its former name. */
  ports: { bbr: number; epp: number; health: number; admin: number; metrics: number };
  /** The TLS certificate of the ext_proc ports, when TLS is on. */
  certificate?: CertificatePair;
  /** Set when tracing is on: `tracing.observer` is told of each pick; close() and shutdown() flush it last. */
  tracing?: Tracing;
  tls: string;
  close(): Promise<void>;
  /**
   * The graceful stop a signal starts: gRPC health NOT_SERVING, streams still accepted for the delay, then
   * the ext_proc servers drain (tryShutdown) up to the timeout and are cut (forceShutdown); then as close().
   */
  shutdown(options: ShutdownOptions): Promise<ShutdownReport>;
}

export async function startExtproc(opts: ExtprocOptions): Promise<RunningExtproc> {
  assertOneSource(opts.configPath, opts.kube);
  const log = opts.log;
  let kube: KubeWiring | undefined;
  const metrics = new ExtprocMetrics();
  const health = new HealthStatus();
  const decisions = new DecisionLog(opts.debugDecisions, { showRequestIds: opts.debugShowRequestIds === true });
  if (decisions.enabled) warnDebugDecisions(log, decisions, 'GET /debug/scheduling on the admin port');
  // The Gateway's HTTP server is built but never listens: only its configuration machinery is used.
  const gateway = new Gateway({
    ...DEFAULT_GATEWAY_OPTIONS,
    maxBodyBytes: opts.maxBodyBytes,
    strictAllowlist: opts.strictAllowlist,
    modelsRefreshMs: opts.modelsRefreshMs,
    refreshMetricsIntervalMs: opts.refreshMetricsIntervalMs,
    ...(opts.metricsScraping ? { metricsScraping: opts.metricsScraping } : {}),
    debugDecisions: 0,
    // Envoy sends the picker no response bodies, so no created response's id is read: requests on a stored
    // response route by the rules (docs/configuration.md), not to a 404 for every id.
    maxResponseIds: 'unrecorded',
    log,
    ...(opts.eppConfig ? { eppConfig: opts.eppConfig } : {}),
    ...(opts.kvEvents ? { kvEvents: opts.kvEvents } : {}),
    ...(opts.kube ? { isolateConfigProblems: true } : {}),
    ...(opts.upstreamKeys || opts.kube ? { upstreamKeys: { ...opts.upstreamKeys, ...(opts.kube ? { readSecret: secretReader(opts.kube) } : {}) } } : {}),
  });
  const sourceOpts = { ...(opts.gatewayName !== undefined ? { gatewayName: opts.gatewayName } : {}), ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}) };
  // In ext_proc mode the Gateway implementation (Envoy Gateway, Istio, GKE) owns InferencePool status.
  // Every snapshot from either source passes the guard, as in `serve`: an emptied config is held back, not applied.
  const edits = opts.configEdits ?? {};
  // BbrProcessor counts bbr_* itself: the picker's request records must not count them again.
  const gatewayMetrics = new GatewayMetrics({ bbrInRecords: false });
  gatewayMetrics.attach(gateway);
  gatewayMetrics.add(metrics.families());
  const guard = editGuardFor(opts.kube ? 'kubernetes' : 'files', edits, log, gatewayMetrics.countingReloads((s) => gateway.applySnapshot(s)));
  gateway.readinessDetails.set('config', () => guard.report());
  gatewayMetrics.watchHeld(() => guard.held !== undefined);
  if (opts.kube) kube = await connectKube({ ...opts.kube, writePoolStatus: false }, { applySnapshot: (s, c) => guard.offer(s, c), schedulers: gateway.schedulers }, { ...sourceOpts, log });
  if (kube) {
    gatewayMetrics.watchKube(() => kube!.source.reflectors());
    gatewayMetrics.watchIgnored(() => kube!.source.rejected);
    // Readiness stays while watches fail (the last snapshot serves); /readyz and the dashboard say which and why.
    gateway.readinessDetails.set('kubernetes', () => kube!.source.watchProblems());
  }
  const onRejected = (m: string): void => {
    guard.rejected(m);
    gatewayMetrics.configReloaded(false);
  };
  const fileOpts = { ...sourceOpts, ...(opts.fileSettleMs !== undefined ? { settleMs: opts.fileSettleMs } : {}), allowEmptyFiles: edits.allowEmptyConfig === true, onRejected };
  const file = opts.configPath !== undefined ? new FileConfigSource(opts.configPath, fileOpts, log, (s) => guard.offer(s)) : undefined;
  const servers: Server[] = [];
  /** The two ext_proc servers (BBR, EPP), which a shutdown drains; the health server answers until the end. */
  const processors: Server[] = [];
  const admin = new AdminServer({ host: opts.adminHost ?? opts.host, port: opts.adminPort, metrics: gatewayMetrics, decisions, log });
  // The dashboard (GET /): pools, endpoints, config issues and picks as in `serve`; its charts count the
  // requests the endpoint picker reports to `dashboard` (a RequestObserver), there being no proxy here.
  const dashboard = new DashboardObserver();
  const tracing = opts.tracing ? await startTracing(opts.tracing, log) : undefined;
  mountDashboard(admin, { mode: 'extproc', gateway, decisions, traffic: dashboard, rejectedObjects: () => kube?.source.rejected ?? new Map() });
  mountProfiling(admin, opts.enablePprof === true);
  // The EPP's flow-control queues, bands and flows, as `serve` shows them; an empty list when no pool has the gate on.
  admin.route('/debug/flow-control', (_req, res) => sendJson(res, 200, { pools: flowControlReport(gateway.flowControl) }));
  /** Stops watching --cert-file and --key-file, once they are read. */
  let closeTls = (): void => undefined;
  const stopAll = async (graceMs: number): Promise<void> => {
    health.setReady(false);
    closeTls();
    guard.close();
    file?.close();
    await kube?.close();
    await Promise.all(servers.map((s) => shutdownGrpc(s, graceMs)));
    await admin.close();
    gatewayMetrics.close();
    await gateway.close(0);
    await tracing?.shutdown();
  };
  try {
    // TLS first: a bad --cert-file should fail before the configuration is loaded.
    const creds = await servingCredentials({ secureServing: opts.secureServing, ...(opts.certFile !== undefined ? { certFile: opts.certFile } : {}), ...(opts.keyFile !== undefined ? { keyFile: opts.keyFile } : {}), log });
    closeTls = creds.close;
    const bodyLimits = new BodyLimits(opts.maxBodyBytes, opts.maxUploadBytes);
    const largestBody = Math.max(bodyLimits.json.bytes, bodyLimits.upload.bytes);
    const healthServer = grpcServer(largestBody);
    healthServer.addService(healthServiceDefinition(), health.implementation());
    servers.push(healthServer);
    const healthPort = await bind(healthServer, opts.host, opts.healthPort, ServerCredentials.createInsecure(), 'the gRPC health server', '--health-port');
    admin.route('/readyz', (_req, res) => {
      // gRPC health carries only SERVING or not; this says why (a held-back config change, ...), as serve's /readyz.
      const ready = health.get('readiness') === 'SERVING';
      const details = gateway.readiness();
      // Not ready before the first configuration: why, as serve's /readyz says it (which Kubernetes list is pending, a 403...).
      const reason = health.shuttingDown ? 'shutting down' : ready ? undefined : gateway.state ? undefined : (kube?.source.notReadyReason() ?? 'no configuration loaded yet');
      const body = JSON.stringify({ status: ready ? 'ready' : 'not ready', ...(reason !== undefined ? { reason } : {}), ...(gateway.state ? { config_version: gateway.state.snapshot.version } : {}), ...(Object.keys(details).length > 0 ? { details } : {}) });
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(body);
    });
    const adminPort = (await admin.listen()).port;

    if (file) await file.start();
    gateway.discovery.start();
    gateway.metrics.start();

    const streamOpts: StreamOptions = { bodyLimits, jsonLimits: { ...DEFAULT_JSON_LIMITS, ...opts.jsonLimits }, assumedBodyMode: opts.assumedBodyMode, metrics, log };
    const state = (): GatewayState | undefined => gateway.state;
    const start = async (processor: Processor, port: number, flag: string): Promise<number> => {
      const server = grpcServer(largestBody);
      server.addService(extProcServiceDefinition(), { Process: processHandler(processor, streamOpts) });
      server.addService(healthServiceDefinition(), health.implementation());
      servers.push(server);
      processors.push(server);
      return bind(server, opts.host, port, creds.credentials, `the ${processor.name.toUpperCase()} ext_proc server`, flag);
    };
    const bbrPort = await start(new BbrProcessor(state, gatewayMetrics.bbr), opts.bbrPort, '--bbr-port');
    const eppPort = await start(new EppProcessor({ state, metrics, log, decisions, adminPaths: new AdminPathPolicy(opts.allowAdminPaths), credentials: (pool) => gateway.upstream.credentials.forPool(pool), ...eppObserver(composeObservers([gatewayMetrics.observer, dashboard, tracing?.observer])) }), opts.eppPort, '--epp-port');
    if (kube) {
      // Ports are up first so probes get answers; readiness turns SERVING with the first full sync.
      log.info(`reading configuration from the Kubernetes API at ${kube.describe}`);
      kube.source.start();
      const sync = kube.source.firstSync().then(() => health.setReady(true));
      if (!opts.skipSyncWait) await sync;
    } else health.setReady(true);
    return {
      gateway,
      source: (file ?? kube?.source)!,
      guard,
      metrics,
      gatewayMetrics,
      admin,
      health,
      host: opts.host,
      ports: { bbr: bbrPort, epp: eppPort, health: healthPort, admin: adminPort, metrics: adminPort },
      ...(creds.certificate ? { certificate: creds.certificate } : {}),
      ...(tracing ? { tracing } : {}),
      tls: creds.describe,
      close: () => stopAll(opts.shutdownGraceMs),
      shutdown: async (shutdown) => {
        const target = {
          unit: 'streams',
          failReadiness: () => health.shutDown(),
          // tryShutdown closes the listeners and sends GOAWAY: Envoy opens no new stream here, open ones finish.
          // Flow control: queued requests still dispatch during the drain; new ones that would queue get 503.
          drain: () => {
            gateway.flowControl.beginShutdown();
            return Promise.all(processors.map((s) => new Promise<void>((resolve) => s.tryShutdown(() => resolve())))).then(() => undefined);
          },
          inFlight: () => metrics.activeStreams('bbr') + metrics.activeStreams('epp'),
          // Requests still queued at the timeout get 503 rejected-shutting-down (an immediate response) before the cut.
          cut: () => {
            gateway.flowControl.rejectQueued();
            setImmediate(() => processors.forEach((s) => s.forceShutdown()));
          },
        };
        const report = await new GracefulShutdown(target, shutdown, log).run();
        await stopAll(0);
        return report;
      },
    };
  } catch (e) {
    await stopAll(0).catch(() => undefined);
    throw e;
  }
}

function grpcServer(maxBodyBytes: number): Server {
  // BUFFERED mode sends the whole body in one message: let bodies up to the limit (and a little over, so
  // they get a proper 413 rather than a gRPC error) through.
  return new Server({ 'grpc.max_receive_message_length': Math.max(4 * 1024 * 1024, maxBodyBytes + 1024 * 1024) });
}

/** Binds `server`; a failure names the server, the address and the flag that chose it, as `serve` does. */
function bind(server: Server, host: string, port: number, creds: Credentials, what: string, flag: string): Promise<number> {
  const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) =>
    server.bindAsync(authority, creds, (err, bound) => (err ? reject(new Error(`${what} cannot listen on ${authority} (--host, ${flag}): ${bindReason(err)}`)) : resolve(bound))),
  );
}

/** grpc-js reports every bind failure as "No address added out of total 1 resolved errors: [listen EADDRINUSE: ...]". */
function bindReason(err: Error): string {
  if (err.message.includes('EADDRINUSE')) return 'the port is in use by another process (or by this one: give --bbr-port, --epp-port, --health-port and --admin-port different ports)';
  if (err.message.includes('EADDRNOTAVAIL')) return 'no network interface of this machine has that address; give one it has (0.0.0.0 for every one)';
  if (err.message.includes('EACCES')) return 'permission denied: ports below 1024 need privileges; give a port from 1024';
  return err.message;
}

/** Lets open streams finish for `graceMs` (Envoy holds one per in-flight request), then cuts them. */
async function shutdownGrpc(server: Server, graceMs: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The picker's observer option, absent when there is none. */
function eppObserver(observer: RequestObserver | undefined): { observer?: RequestObserver } {
  return observer ? { observer } : {};
}
