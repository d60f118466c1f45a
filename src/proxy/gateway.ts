/** The standalone gateway's runtime: current snapshot, datastore, discovery, the upstream side and the HTTP server. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConfigSnapshot } from '../config/snapshot.js';
import { Datastore } from '../epp/datastore/datastore.js';
import type { Endpoint } from '../epp/datastore/endpoint.js';
import { ModelDiscovery } from '../epp/datastore/model-discovery.js';
import { DEFAULT_METRICS_SCRAPING, MetricsScraper, type MetricsScraping } from '../epp/metrics/metrics-scraper.js';
import { PoolSchedulers, type ConfigText } from '../epp/pool-schedulers.js';
import type { Logger } from '../logger.js';
import type { RequestObserver } from '../observability/request-record.js';
import { createHandler } from './handler.js';
import type { ForwardContext } from './forward.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from '../bbr/json-limits.js';
import { DEFAULT_CONNECTION_LIMITS, createLimitedServer, type ConnectionLimits } from './connection-limits.js';
import type { ServingCertificate } from './serving-certificate.js';
import type { Server as TlsServer } from 'node:tls';
import { BodyBudget } from './body-budget.js';
import { BodyLimits, DEFAULT_MAX_UPLOAD_BYTES } from './body-limits.js';
import { WorkSlice } from './work-slice.js';
import { answerExpectations } from './expectations.js';

/** The default --max-body-memory: with the process's own ~150 MiB, 16 worst-case bodies at once stay under 500 MiB (bench/parse-attack.ts). */
export const DEFAULT_BODY_MEMORY_BYTES = 32 * 1024 * 1024;
import type { GatewayState } from '../plan/plan-request.js';
import { DEFAULT_OUTLIER_DETECTION, type OutlierDetection } from '../upstream/outlier-detection.js';
import { ejectedEndpoints } from '../upstream/outlier-detector.js';
import { DEFAULT_UPSTREAM_TIMEOUTS, type UpstreamTimeouts } from '../upstream/timeouts.js';
import { Upstream } from '../upstream/upstream.js';
import { DEFAULT_KEY_REFRESH_MS, type UpstreamCredentialsOptions } from '../upstream/upstream-credentials.js';
import { upstreamAuthReport } from '../upstream/upstream-auth-report.js';
import { DecisionLog, warnDebugDecisions } from '../observability/decision-log.js';
import { AdminPathPolicy } from '../policy/admin-paths.js';
import { HttpDrain } from '../lifecycle/http-drain.js';
import { FlowControl } from '../flowcontrol/flow-control.js';
import { PluginHost, type PluginHostOptions } from '../epp/plugin-host.js';
import { ExternalPickers, type ExternalPickerOptions } from '../epp/external/external-pickers.js';
import { DEFAULT_MAX_RESPONSE_IDS, ResponseAffinity, type ResponseIds } from '../affinity/response-affinity.js';
import type { Tenancy } from '../tenancy/tenancy.js';
import type { CorsPolicy } from './cors.js';
import { PrefillLeg, type KvConnector } from '../disagg/prefill-leg.js';
import { composeObservers } from '../observability/compose-observers.js';

export interface GatewayOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  /**
   * The largest multipart/form-data body (an audio upload), in place of `maxBodyBytes`: vLLM and OpenAI take audio
   * files up to 25 MB, more than a JSON body needs. Default DEFAULT_MAX_UPLOAD_BYTES.
   */
  maxUploadBytes?: number;
  strictAllowlist: boolean;
  maxAttempts: number;
  /**
   * `--kv-connector`: the gateway makes P/D's prefill leg itself, with this KV connector's protocol (llm-d's sidecar
   * names); unset, it only names the prefill pod in `x-prefiller-host-port` for a sidecar in front of the decode pod.
   */
  kvConnector?: KvConnector;
  /** How often each endpoint's GET /v1/models is refreshed (ms). */
  modelsRefreshMs: number;
  /** How often each endpoint's /metrics is scraped (ms); llm-d's --refresh-metrics-interval. */
  refreshMetricsIntervalMs: number;
  /** Where the /metrics GETs and parsing run (`--metrics-scraping`); default DEFAULT_METRICS_SCRAPING. */
  metricsScraping?: MetricsScraping;
  /** Upstream timeouts of pools whose annotations do not set them (the flags); unset fields keep their defaults. */
  timeouts?: Partial<UpstreamTimeouts>;
  /** Outlier detection of pools whose annotations do not set it (the flags); unset fields keep their defaults. */
  outlierDetection?: Partial<OutlierDetection>;
  /** Per-call timeout of each endpoint's GET /v1/models (ms). */
  modelsTimeoutMs: number;
  /** Where the pools' upstream API keys come from: `--upstream-api-key-file` / the environment, and Secrets with --kube. */
  upstreamKeys?: Pick<UpstreamCredentialsOptions, 'defaultSource' | 'readSecret'>;
  /** Per-scrape timeout of each endpoint's /metrics (ms). */
  metricsTimeoutMs: number;
  /** The EndpointPickerConfig for pools that name none (`--epp-config`); llm-d's default when unset. */
  eppConfig?: ConfigText;
  /** `--epp-service-name`: the Service that fronts this gateway, as pools' endpointPickerRefs name it (src/epp/picker-ref.ts). */
  eppServiceName?: string;
  /** How many recent scheduling decisions `GET /debug/scheduling` keeps (0 = off: no tracing cost). */
  debugDecisions: number;
  /** Show request ids verbatim in `/debug/scheduling` instead of a keyed hash of each. */
  debugShowRequestIds?: boolean;
  /** vLLM admin paths forwarded all the same (`--allow-admin-paths`; `*` for all); the rest get 403. */
  allowAdminPaths?: readonly string[];
  /**
   * Set by live sources (Kubernetes): a pool whose EndpointPickerConfig is missing or invalid keeps its
   * previous one (or the default) and the problem is reported, instead of the whole change being rejected.
   */
  isolateConfigProblems?: boolean;
  /** Why there is no configuration yet, for /readyz (e.g. which Kubernetes lists are still pending). */
  notReadyReason?: () => string;
  /** Told of every request (src/observability/request-record.ts): the metrics, later the access log and traces. */
  observer?: RequestObserver;
  /** Bounds on a request body's JSON (--max-json-depth, --max-json-values); unset fields keep their defaults. */
  jsonLimits?: Partial<JsonLimits>;
  /** Client connection limits (request timeouts, keep-alive, connection caps); unset fields keep their defaults. */
  connections?: Partial<ConnectionLimits>;
  /** `--cert-file`/`--key-file`: HTTPS on the traffic port with this certificate, reloaded when its files change. */
  tls?: ServingCertificate;
  /** Memory all request bodies held at once may take, raw and parsed (--max-body-memory); default DEFAULT_BODY_MEMORY_BYTES. */
  maxBodyMemoryBytes?: number;
  /**
   * Responses API ids remembered with the endpoint that created them (--max-response-ids; 0 = off); default
   * DEFAULT_MAX_RESPONSE_IDS. 'unrecorded' where the gateway never sees the answers to read ids from (ext_proc).
   */
  maxResponseIds?: number | 'unrecorded';
  /** How external endpoint pickers are called (--epp-message-timeout, --epp-plaintext, --epp-ca-file); unset fields keep their defaults. */
  externalPickers?: Partial<ExternalPickerOptions>;
  /** KV-event stream tuning for the precise prefix plugins (tests shorten its recovery times); defaults otherwise. */
  kvEvents?: PluginHostOptions['kvEvents'];
  /** `--api-keys`: keys, per-key models and limits (src/tenancy); unset, requests are not authenticated, at no cost. */
  tenancy?: Tenancy;
  /** `--allowed-origins` and friends: who may call from a web page (src/proxy/cors.ts); unset, CORS is off and preflights get 403. */
  cors?: CorsPolicy;
  log: Logger;
}

export const DEFAULT_GATEWAY_OPTIONS: Omit<GatewayOptions, 'log'> = {
  host: '127.0.0.1',
  port: 8080,
  maxBodyBytes: 16 * 1024 * 1024,
  maxUploadBytes: DEFAULT_MAX_UPLOAD_BYTES,
  strictAllowlist: false,
  maxAttempts: 3,
  modelsRefreshMs: 5000,
  refreshMetricsIntervalMs: 50,
  modelsTimeoutMs: 2000,
  // Under the metrics' 2 s staleness: a hung /metrics shows as an error before its last numbers go stale.
  metricsTimeoutMs: 1000,
  debugDecisions: 0,
};

export class Gateway {
  /** With `kvConnector`: the prefill leg the gateway makes for P/D requests (src/disagg). */
  #prefillLeg: PrefillLeg | undefined;
  readonly options: GatewayOptions;
  /** The JSON limits in force: `options.jsonLimits` over the defaults. */
  readonly jsonLimits: JsonLimits;
  /** The connection limits in force: `options.connections` over the defaults. */
  readonly connectionLimits: ConnectionLimits;
  /** Request bodies held at once, raw and parsed: past it, bodies wait unread (issue #10). */
  readonly bodyBudget: BodyBudget;
  readonly bodyLimits: BodyLimits;
  /** Request bodies' share of each turn of the event loop, so /healthz is answered between their chunks. */
  readonly workSlice = new WorkSlice();
  readonly datastore = new Datastore();
  readonly discovery: ModelDiscovery;
  readonly metrics: MetricsScraper;
  readonly schedulers: PoolSchedulers;
  /** What the plugins in force get from the running gateway: KV-event subscriptions, the pods' tokenizers (src/epp/plugin-host.ts). */
  readonly plugins: PluginHost;
  readonly decisions: DecisionLog;
  /** Connection pools, each pool's timeouts and outlier detection. */
  readonly upstream: Upstream;
  readonly adminPaths: AdminPathPolicy;
  /** ext_proc clients of the endpoint pickers other than infergate that pools' endpointPickerRefs name (src/epp/external). */
  readonly externalPickers: ExternalPickers;
  /** Which endpoint holds each stored Responses API response, or why nothing says (--max-response-ids 0, ext_proc). */
  readonly responses: ResponseIds;
  readonly server: Server;
  /** Connections and requests in flight, and the drain of a graceful shutdown (src/lifecycle). */
  readonly drain: HttpDrain;
  /** Queues of the pools whose EndpointPickerConfig has `featureGates: [flowControl]` (src/flowcontrol). */
  readonly flowControl = new FlowControl();
  #state: GatewayState | undefined;
  /** What forward needs of the gateway with the state in force: built once per configuration, not per request. */
  #forwardContext: ForwardContext | undefined;
  #shuttingDown = false;

  constructor(options: GatewayOptions) {
    // With keys on, tenancy reads each request's usage when it ends: it observes every request as the metrics do.
    this.options = options.tenancy ? { ...options, observer: composeObservers([options.observer, options.tenancy.observer]) } : options;
    this.upstream = new Upstream({
      defaults: { timeouts: { ...DEFAULT_UPSTREAM_TIMEOUTS, ...options.timeouts }, outlierDetection: { ...DEFAULT_OUTLIER_DETECTION, ...options.outlierDetection } },
      onConnectionFailure: (ep) => void this.discovery.refresh(ep),
      onEject: ({ endpoint, pool, ejection }) =>
        options.log.warn('endpoint ejected by outlier detection', { endpoint: endpoint.address, pod: endpoint.podKey, pool, type: ejection.type, reason: ejection.detail, for_ms: ejection.until - ejection.at }),
      credentials: { ...options.upstreamKeys, refreshMs: DEFAULT_KEY_REFRESH_MS, log: options.log },
    });
    if (options.kvConnector !== undefined) this.#prefillLeg = new PrefillLeg(this.upstream, options.kvConnector);
    const refusedLog = (what: string) => (ep: Endpoint, msg: string) =>
      options.log.warn(`${what} refused: the pod wants another API key`, { endpoint: ep.address, pod: ep.podKey, pool: this.upstream.credentials.poolOf(ep), error: msg });
    this.discovery = new ModelDiscovery(this.datastore, {
      intervalMs: options.modelsRefreshMs,
      timeoutMs: options.modelsTimeoutMs,
      auth: this.upstream.credentials,
      onError: (ep, msg) => options.log.debug('model discovery failed', { endpoint: ep.address, error: msg }),
      onRefused: refusedLog('model discovery'),
    });
    this.schedulers = new PoolSchedulers(options.eppConfig, undefined, { ...(options.eppServiceName !== undefined ? { eppServiceName: options.eppServiceName } : {}), log: options.log });
    this.plugins = new PluginHost({ log: options.log, headersFor: (ep) => this.upstream.credentials.headersFor(ep), ...(options.kvEvents ? { kvEvents: options.kvEvents } : {}) });
    this.decisions = new DecisionLog(options.debugDecisions, { showRequestIds: options.debugShowRequestIds === true });
    if (this.decisions.enabled) warnDebugDecisions(options.log, this.decisions);
    this.adminPaths = new AdminPathPolicy(options.allowAdminPaths);
    this.externalPickers = new ExternalPickers(options.externalPickers ?? {}, options.log);
    const maxResponseIds = options.maxResponseIds ?? DEFAULT_MAX_RESPONSE_IDS;
    this.responses = maxResponseIds === 'unrecorded' ? 'unrecorded' : maxResponseIds > 0 ? new ResponseAffinity(maxResponseIds) : 'off';
    this.metrics = new MetricsScraper(this.datastore, {
      refreshMetricsIntervalMs: options.refreshMetricsIntervalMs,
      timeoutMs: options.metricsTimeoutMs,
      auth: this.upstream.credentials,
      scraping: options.metricsScraping ?? DEFAULT_METRICS_SCRAPING,
      log: options.log,
      onError: (ep, msg) => (ep.metricsRefused !== 0 ? refusedLog('metrics scrape')(ep, msg) : options.log.debug('metrics scrape failed', { endpoint: ep.address, error: msg })),
    });
    this.jsonLimits = { ...DEFAULT_JSON_LIMITS, ...options.jsonLimits };
    this.bodyBudget = new BodyBudget(options.maxBodyMemoryBytes ?? DEFAULT_BODY_MEMORY_BYTES);
    this.bodyLimits = new BodyLimits(options.maxBodyBytes, options.maxUploadBytes);
    this.connectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...options.connections };
    // Timeouts on receiving the request (never on the streamed response) and connection caps (issue #10).
    this.server = createLimitedServer(this.connectionLimits, createHandler(this), options.log, options.tls?.pem, this.options.observer);
    answerExpectations(this.server, this.bodyLimits);
    // A renewed certificate is given to new connections; those open keep the one they started with.
    options.tls?.watch((pem) => (this.server as unknown as TlsServer).setSecureContext(pem));
    this.drain = new HttpDrain(this.server);
  }

  /**
   * What `/readyz` reports beside its status, one key per concern (a held-back config edit, ejected endpoints,
   * ...). Each returns undefined when it has nothing to say, and the key is then left out.
   */
  readonly readinessDetails = new Map<string, () => unknown>([
    // Endpoints outlier detection holds out now, and why; left out when there are none.
    ['ejected', () => {
      const list = ejectedEndpoints(this.datastore.endpoints(), Date.now());
      return list.length > 0 ? list : undefined;
    }],
    // Pods refusing the gateway's API key, and pools whose key cannot be read; left out when there are none.
    ['upstream_auth', () => upstreamAuthReport(this.datastore, this.upstream.credentials)],
  ]);

  /** The `/readyz` details in force now: only the concerns that have something to say. */
  readiness(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, get] of this.readinessDetails) {
      const v = get();
      if (v !== undefined) out[key] = v;
    }
    return out;
  }

  /** True from the first shutdown signal on: /readyz answers 503 "shutting down" while requests are still served. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** The first phase of a graceful shutdown (src/lifecycle/shutdown.ts): readiness fails for good. */
  failReadiness(): void {
    this.#shuttingDown = true;
  }

  /** undefined until the first snapshot is in force; /readyz answers 503 until then. */
  get state(): GatewayState | undefined {
    return this.#state;
  }

  /** Set with the state: forward's view of the gateway under the configuration in force. */
  get forwardContext(): ForwardContext | undefined {
    return this.#forwardContext;
  }

  /**
   * Puts a snapshot in force: endpoints new to it are asked what they serve first, then pools and snapshot
   * are swapped together, so requests see either the old configuration or the new one, never a mix.
   */
  async applySnapshot(snapshot: ConfigSnapshot): Promise<void> {
    // A pool's EndpointPickerConfig is validated before anything changes: a bad one rejects the whole reload.
    const schedulers = this.schedulers.prepare(snapshot, this.options.isolateConfigProblems === true);
    for (const w of schedulers.warnings) this.options.log.warn(w);
    // So are its upstream annotations (timeouts, outlier detection).
    const policies = this.upstream.policies.prepare(snapshot, this.options.isolateConfigProblems === true);
    for (const w of policies.warnings) this.options.log.warn(w);
    // And its API key annotations; the keys are read (and in force) before new endpoints are asked anything.
    const credentials = this.upstream.credentials.prepare(snapshot, this.options.isolateConfigProblems === true);
    for (const w of credentials.warnings) this.options.log.warn(w);
    const prepared = this.datastore.prepare(snapshot);
    await credentials.commit();
    // New endpoints are asked what they serve and scraped once, in parallel, before requests can pick them.
    await Promise.all([this.discovery.refreshAll(prepared.added), this.metrics.scrapeAll(prepared.added)]);
    prepared.commit();
    schedulers.commit();
    policies.commit();
    // Plugins in force get the runtime; KV-event subscriptions follow the pools' endpoints (issue #14).
    this.plugins.reconcile(this.schedulers, this.datastore);
    this.externalPickers.retain(this.schedulers.externalPickerRefs());
    this.flowControl.reconcile(this.schedulers, this.datastore, this.options.log);
    this.#state = { snapshot, datastore: this.datastore, strictAllowlist: this.options.strictAllowlist, schedulers: this.schedulers, flowControl: this.flowControl, responses: this.responses };
    const o = this.options;
    this.#forwardContext = {
      state: this.#state,
      decisions: this.decisions,
      upstream: this.upstream,
      maxAttempts: o.maxAttempts,
      log: o.log,
      ...(o.observer ? { observer: o.observer } : {}),
      ...(this.#prefillLeg ? { prefill: this.#prefillLeg } : {}),
    };
    for (const ep of prepared.removed) {
      this.upstream.pools.release(ep.origin);
      this.schedulers.forget(ep.address);
    }
    this.options.log.info('configuration in force', {
      version: snapshot.version,
      pools: snapshot.pools.size,
      routes: snapshot.routes.length,
      endpoints: [...this.datastore.endpoints()].length,
      added: prepared.added.length,
      removed: prepared.removed.length,
    });
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.discovery.start();
    this.metrics.start();
    return this.server.address() as AddressInfo;
  }

  /** `https` when the traffic port serves TLS, else `http`. */
  get scheme(): 'http' | 'https' {
    return this.options.tls ? 'https' : 'http';
  }

  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes upstream connections. */
  async close(graceMs = 5000): Promise<void> {
    this.options.tls?.close();
    this.discovery.stop();
    this.metrics.stop();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    // Queued requests may still dispatch during the grace; past it they get 503 rejected-shutting-down, then the cut.
    this.flowControl.beginShutdown();
    const timer = setTimeout(() => {
      this.flowControl.rejectQueued();
      setImmediate(() => this.server.closeAllConnections());
    }, graceMs);
    await closed;
    clearTimeout(timer);
    await this.discovery.close();
    await this.metrics.close();
    await this.upstream.close();
    this.externalPickers.close();
    await this.plugins.close();
  }
}
