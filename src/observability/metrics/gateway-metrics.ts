/**
 * Every family a gateway exports, on one prom-client Registry of its own (no globals; the process's own health
 * under the standard `process_*` and `nodejs_*` names, process-metrics.ts), and the hooks its parts call: the
 * request observer, the schedulers' timer, configuration reloads, Kubernetes watches. One per `serve` or
 * `extproc` process (tests run several side by side); close() stops its samplers.
 */
import { Registry } from 'prom-client';
import type { ConfigSnapshot } from '../../config/snapshot.js';
import type { Reflector } from '../../config/kube/reflector.js';
import type { Datastore } from '../../epp/datastore/datastore.js';
import { PrefixCacheScorer } from '../../epp/plugins/prefix-cache-scorer.js';
import type { PoolSchedulers } from '../../epp/pool-schedulers.js';
import type { OutlierStats } from '../../upstream/outlier-detector.js';
import { AttemptMetrics } from './attempt-metrics.js';
import { ExternalPickerMetrics } from './external-picker-metrics.js';
import { BbrMetrics } from './bbr-metrics.js';
import { BoundedLabel, MAX_FAIRNESS_LABEL_VALUES, MAX_MODEL_LABEL_VALUES } from './bounded-label.js';
import { ConfigMetrics } from './config-metrics.js';
import { CredentialCollector } from './credential-collector.js';
import type { PoolCredential } from '../../upstream/upstream-auth.js';
import { EndpointCollector } from './endpoint-collector.js';
import { register, type Collectable } from './family.js';
import { infoFamilies } from './info-metrics.js';
import { KubeCollector } from './kube-collector.js';
import { kvEventsFamilies } from './kv-events-metrics.js';
import { metricsScrapingFamilies, type ScrapingSource } from './metrics-scraping-metrics.js';
import type { KvEventsHub } from '../../kvevents/kv-events-hub.js';
import { MetricsObserver } from './metrics-observer.js';
import { PoolCollector } from './pool-collector.js';
import { DisaggMetrics } from './disagg-metrics.js';
import { PrefixMetrics } from './prefix-metrics.js';
import { ProcessMetrics } from './process-metrics.js';
import { RequestFamilies } from './request-families.js';
import { RequestSeriesCache } from './request-series.js';
import { SchedulerMetrics } from './scheduler-metrics.js';
import { DEFAULT_SLICE_MS, renderSliced, renderSlicedBody, type RenderSlices } from './sliced-render.js';
import { FlowControlMetrics } from './flow-control-metrics.js';
import type { FlowControl } from '../../flowcontrol/flow-control.js';

/** llm-d's cap on model_server_endpoint / endpoint_name values (endpoints normally come and go with pods). */
const MAX_ENDPOINT_LABEL_VALUES = 1000;

/** What the metrics read of a gateway (proxy/gateway.ts's Gateway has all of it). */
export interface MetricsSources {
  datastore: Datastore;
  schedulers: PoolSchedulers;
  upstream?: { outliers: { stats: OutlierStats }; credentials?: { pools(): Iterable<PoolCredential> } };
  /** The precise prefix index and its KV-event feeds (src/epp/plugin-host.ts). */
  plugins?: { kvEvents: KvEventsHub };
  /** Flow control's queues (src/flowcontrol). */
  flowControl?: FlowControl;
  /** The endpoint /metrics scraper (src/epp/metrics/metrics-scraper.ts): its worker's restarts. */
  metrics?: ScrapingSource;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  /** model_name and target_model_name share this cap; names an InferenceModelRewrite configures are pinned. */
  readonly models = new BoundedLabel(MAX_MODEL_LABEL_VALUES);
  readonly fairness = new BoundedLabel(MAX_FAIRNESS_LABEL_VALUES);
  readonly requests = new RequestFamilies();
  readonly bbr = new BbrMetrics();
  readonly attempts = new AttemptMetrics();
  readonly externalPickers = new ExternalPickerMetrics();
  readonly scheduler = new SchedulerMetrics(this.models, new BoundedLabel(MAX_ENDPOINT_LABEL_VALUES));
  readonly prefix = new PrefixMetrics();
  /** llm-d's P/D decisions; model_name shares the request families' cap. */
  readonly disagg = new DisaggMetrics(this.models);
  readonly config = new ConfigMetrics();
  readonly kube = new KubeCollector();
  /** `llm_d_epp_flow_control_*`: fairness ids and model names share the request families' caps. */
  readonly flowControl = new FlowControlMetrics(this.fairness, this.models);
  readonly process = new ProcessMetrics();
  /** The RequestObserver the data plane reports each request to. */
  readonly observer: MetricsObserver;
  #attached = false;

  /**
   * `bbrInRecords` (default true): the observer counts `bbr_*` from request records, as `serve` routes bodies
   * in process. `extproc` passes false: its BBR server counts them itself, and the endpoint picker's records
   * would count the same bodies twice.
   */
  constructor(options: { bbrInRecords?: boolean } = {}) {
    const series = new RequestSeriesCache(this.requests, this.models, this.fairness);
    this.observer = new MetricsObserver({ families: this.requests, series, attempts: this.attempts, externalPickers: this.externalPickers, ...(options.bbrInRecords === false ? {} : { bbr: this.bbr }) });
    for (const f of infoFamilies()) register(this.registry, f);
    this.requests.register(this.registry);
    this.scheduler.register(this.registry);
    this.prefix.register(this.registry);
    this.disagg.register(this.registry);
    this.bbr.register(this.registry);
    this.attempts.register(this.registry);
    this.externalPickers.register(this.registry);
    this.config.register(this.registry);
    this.kube.register(this.registry);
    this.flowControl.register(this.registry);
    this.add(this.process.families());
  }

  /** Stops what samples between scrapes (the event-loop delay, the collector's pauses). */
  close(): void {
    this.process.close();
  }

  /**
   * Reads a gateway's state at scrape time (pools, endpoints, outlier detection) and times its schedulers,
   * those in force and those built later. Once per instance.
   */
  attach(sources: MetricsSources): void {
    if (this.#attached) throw new Error('GatewayMetrics.attach called twice');
    this.#attached = true;
    new PoolCollector(sources.datastore).register(this.registry);
    new EndpointCollector({ datastore: sources.datastore, schedulers: sources.schedulers, ...(sources.upstream ? { outlierStats: sources.upstream.outliers.stats } : {}) }).register(this.registry);
    new CredentialCollector({ datastore: sources.datastore, ...(sources.upstream?.credentials ? { credentials: sources.upstream.credentials } : {}) }).register(this.registry);
    this.add(kvEventsFamilies(() => sources.plugins?.kvEvents));
    this.add(metricsScrapingFamilies(() => sources.metrics));
    if (sources.flowControl) this.flowControl.attach(sources.flowControl);
    this.prefix.watch(sources.schedulers);
    sources.schedulers.instrument((scheduler) => {
      scheduler.timer = this.scheduler;
      for (const p of scheduler.config.plugins.values()) if (p instanceof PrefixCacheScorer) p.matchObserver = this.prefix.observeMatch;
      this.disagg.instrument(scheduler);
    });
  }

  /**
   * A configuration change was put in force (`snapshot`) or rejected. Model names its InferenceModelRewrites
   * configure are pinned first, so they never fold into `other`.
   */
  configReloaded(ok: true, snapshot: ConfigSnapshot): void;
  configReloaded(ok: false): void;
  configReloaded(ok: boolean, snapshot?: ConfigSnapshot): void {
    if (!ok || !snapshot) return this.config.reloaded(false);
    for (const rewrites of snapshot.rewrites.values()) {
      for (const rw of rewrites) {
        for (const rule of rw.rules) {
          for (const m of rule.models) this.models.pin(m);
          for (const t of rule.targets) this.models.pin(t.modelRewrite);
        }
      }
    }
    this.flowControl.setPools(snapshot.pools.keys());
    this.config.reloaded(true, snapshot);
  }

  /** `apply` (Gateway.applySnapshot) counting each change it puts in force or rejects. */
  countingReloads(apply: (snapshot: ConfigSnapshot) => Promise<void>): (snapshot: ConfigSnapshot) => Promise<void> {
    return async (snapshot) => {
      try {
        await apply(snapshot);
      } catch (e) {
        this.configReloaded(false);
        throw e;
      }
      this.configReloaded(true, snapshot);
    };
  }

  /** Report these Kubernetes watches (the source's `reflectors()`). */
  watchKube(reflectors: () => readonly Reflector[]): void {
    this.kube.watch(reflectors);
  }

  /** The objects the Kubernetes source set aside as invalid (its `rejected`). */
  watchIgnored(ignored: () => ReadonlyMap<string, unknown>): void {
    this.config.watchIgnored(ignored);
  }

  /** Whether a configuration change is held back now (the edit guard's `held`). */
  watchHeld(isHeld: () => boolean): void {
    this.config.watchHeld(isHeld);
  }

  /** Adds families of another part of the process (the ext_proc servers' own). */
  add(families: Iterable<Collectable>): void {
    for (const f of families) register(this.registry, f);
  }

  /**
   * The Prometheus text exposition of every family, and its content type, rendered in slices of at most
   * about `sliceMs` so a scrape never holds the request thread for long (sliced-render.ts).
   */
  async render(sliceMs = DEFAULT_SLICE_MS, stats?: RenderSlices): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await renderSliced(this.registry, sliceMs, stats) };
  }

  /** The same exposition as {@link render}, as UTF-8 bytes (a buffer per family), for the admin listener to write. */
  async renderBody(sliceMs = DEFAULT_SLICE_MS, stats?: RenderSlices): Promise<{ contentType: string; body: Buffer[] }> {
    return { contentType: this.registry.contentType, body: await renderSlicedBody(this.registry, sliceMs, stats) };
  }
}
