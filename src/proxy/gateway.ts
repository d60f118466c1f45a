/** The standalone gateway's runtime: current snapshot, datastore, discovery, upstream pools and the HTTP server. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConfigSnapshot } from '../config/snapshot.js';
import { Datastore } from '../epp/datastore/datastore.js';
import { ModelDiscovery } from '../epp/datastore/model-discovery.js';
import { MetricsScraper } from '../epp/metrics/metrics-scraper.js';
import { PoolSchedulers, type ConfigText } from '../epp/pool-schedulers.js';
import type { Logger } from '../observability/logger.js';
import { createHandler } from './handler.js';
import type { GatewayState } from './plan-request.js';
import { UpstreamPools } from './upstream-pools.js';
import { DecisionLog, warnDebugDecisions } from '../observability/decision-log.js';
import { AdminPathPolicy } from '../policy/admin-paths.js';

export interface GatewayOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  strictAllowlist: boolean;
  maxAttempts: number;
  /** How often each endpoint's GET /v1/models is refreshed (ms). */
  modelsRefreshMs: number;
  /** How often each endpoint's /metrics is scraped (ms); llm-d's --refresh-metrics-interval. */
  refreshMetricsIntervalMs: number;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  /** The EndpointPickerConfig for pools that name none (`--epp-config`); llm-d's default when unset. */
  eppConfig?: ConfigText;
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
  log: Logger;
}

export const DEFAULT_GATEWAY_OPTIONS: Omit<GatewayOptions, 'log'> = {
  host: '127.0.0.1',
  port: 8080,
  maxBodyBytes: 16 * 1024 * 1024,
  strictAllowlist: false,
  maxAttempts: 3,
  modelsRefreshMs: 5000,
  refreshMetricsIntervalMs: 50,
  connectTimeoutMs: 2000,
  responseTimeoutMs: 600_000,
  debugDecisions: 0,
};

export class Gateway {
  readonly options: GatewayOptions;
  readonly datastore = new Datastore();
  readonly discovery: ModelDiscovery;
  readonly metrics: MetricsScraper;
  readonly schedulers: PoolSchedulers;
  readonly decisions: DecisionLog;
  readonly upstreams: UpstreamPools;
  readonly adminPaths: AdminPathPolicy;
  readonly server: Server;
  #state: GatewayState | undefined;

  constructor(options: GatewayOptions) {
    this.options = options;
    this.upstreams = new UpstreamPools({ connectTimeoutMs: options.connectTimeoutMs, responseTimeoutMs: options.responseTimeoutMs });
    this.discovery = new ModelDiscovery(this.datastore, {
      intervalMs: options.modelsRefreshMs,
      timeoutMs: Math.min(2000, options.modelsRefreshMs),
      onError: (ep, msg) => options.log.debug('model discovery failed', { endpoint: ep.address, error: msg }),
    });
    this.schedulers = new PoolSchedulers(options.eppConfig);
    this.decisions = new DecisionLog(options.debugDecisions, { showRequestIds: options.debugShowRequestIds === true });
    if (this.decisions.enabled) warnDebugDecisions(options.log, this.decisions);
    this.adminPaths = new AdminPathPolicy(options.allowAdminPaths);
    this.metrics = new MetricsScraper(this.datastore, {
      refreshMetricsIntervalMs: options.refreshMetricsIntervalMs,
      onError: (ep, msg) => options.log.debug('metrics scrape failed', { endpoint: ep.address, error: msg }),
    });
    this.server = createServer({ keepAliveTimeout: 65_000 }, createHandler(this));
    // Streams last as long as generation does; the gateway's own timeouts live on the upstream side.
    this.server.requestTimeout = 0;
  }

  /**
   * What `/readyz` reports beside its status, one key per concern (a held-back config edit, ejected endpoints,
   * ...). Each returns undefined when it has nothing to say, and the key is then left out.
   */
  readonly readinessDetails = new Map<string, () => unknown>();

  /** The `/readyz` details in force now: only the concerns that have something to say. */
  readiness(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, get] of this.readinessDetails) {
      const v = get();
      if (v !== undefined) out[key] = v;
    }
    return out;
  }

  /** undefined until the first snapshot is in force; /readyz answers 503 until then. */
  get state(): GatewayState | undefined {
    return this.#state;
  }

  /**
   * Puts a snapshot in force: endpoints new to it are asked what they serve first, then pools and snapshot
   * are swapped together, so requests see either the old configuration or the new one, never a mix.
   */
  async applySnapshot(snapshot: ConfigSnapshot): Promise<void> {
    // A pool's EndpointPickerConfig is validated before anything changes: a bad one rejects the whole reload.
    const schedulers = this.schedulers.prepare(snapshot, this.options.isolateConfigProblems === true);
    for (const w of schedulers.warnings) this.options.log.warn(w);
    const prepared = this.datastore.prepare(snapshot);
    // New endpoints are asked what they serve and scraped once, in parallel, before requests can pick them.
    await Promise.all([this.discovery.refreshAll(prepared.added), this.metrics.scrapeAll(prepared.added)]);
    prepared.commit();
    schedulers.commit();
    this.#state = { snapshot, datastore: this.datastore, strictAllowlist: this.options.strictAllowlist, schedulers: this.schedulers };
    for (const ep of prepared.removed) {
      this.upstreams.release(ep.origin);
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

  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes upstream connections. */
  async close(graceMs = 5000): Promise<void> {
    this.discovery.stop();
    this.metrics.stop();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
    await this.discovery.close();
    await this.metrics.close();
    await this.upstreams.closeAll();
  }
}
