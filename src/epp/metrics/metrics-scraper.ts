/** Scrapes every endpoint's /metrics every few tens of ms into `ep.metrics`, one request per endpoint at a time, here or in a worker thread. */
import type { Datastore } from '../datastore/datastore.js';
import type { Endpoint } from '../datastore/endpoint.js';
import type { EngineMetricMap } from './engine-metrics.js';
import { DEFAULT_ENGINE, ENGINE_TYPE_LABEL, engineMetricMaps, engineTypeOf } from './engine-metrics.js';
import { failureText, readEndpointMetrics, SCRAPE_ACCEPT, SCRAPE_CLIENTS, type ScrapeJob, type ScrapeOutcome } from './read-endpoint-metrics.js';
import { OriginClients } from '../../upstream/origin-clients.js';
import { ScrapeWorker } from './scrape-worker-client.js';
import { isStale } from './staleness.js';
import { metricsScrapeStarted, metricsScraped } from '../../upstream/in-flight.js';
import { refusalMessage, type EndpointAuth } from '../../upstream/upstream-auth.js';
import type { Logger } from '../../logger.js';

/** Where the GETs, parsing and extraction run (`--metrics-scraping`); scheduling and results stay on the request thread. */
export type MetricsScraping = 'worker' | 'in-thread';
export const METRICS_SCRAPING_MODES: readonly MetricsScraping[] = ['worker', 'in-thread'];
/**
 * The gateway's default (`serve`, `extproc`): bench/metrics-scrape.ts measured the request thread's CPU for scraping
 * at about a quarter of in-thread's at 8 and at 100 endpoints (docs/benchmarks.md, "Metrics scraping cost").
 */
export const DEFAULT_METRICS_SCRAPING: MetricsScraping = 'worker';

export interface MetricsScraperOptions {
  /** How often each endpoint is scraped (ms); llm-d's `--refresh-metrics-interval`, default 50. */
  refreshMetricsIntervalMs: number;
  /**
   * Per-scrape timeout (ms), headers and body included. GIE allows 5 s; we default to 1 s, under the 2 s
   * staleness threshold, so a hung pod shows an error before its last metrics go stale.
   */
  timeoutMs: number;
  /** llm-d's `--model-server-metrics-path`. */
  path: string;
  /** A larger body is refused (vLLM's is ~50 KB; this guards against a misconfigured port serving a file). */
  maxBodyBytes: number;
  /** Metric maps by engine name; `engineMetricMaps()` (vLLM and SGLang) by default. */
  engines: ReadonlyMap<string, EngineMetricMap>;
  /** The engine of pods without an `llm-d.ai/engine-type` label. */
  defaultEngine: string;
  /**
   * Called when an endpoint's scrape error changes (first failure, or a different one), not on every failed
   * scrape: at 20 scrapes a second a dead pod would otherwise flood the log.
   */
  onError?: (ep: Endpoint, message: string) => void;
  /**
   * The pools' API keys (src/upstream/upstream-credentials.ts), sent on scrapes too: vLLM leaves /metrics
   * open, but a pod behind an authenticating proxy (kube-rbac-proxy) or another engine may guard it.
   */
  auth?: EndpointAuth;
  /**
   * `in-thread` (the default here; the gateway's is its flag's) or `worker`: the GETs, the text parse and the
   * extraction in a worker thread (scrape-worker.ts), which needs `log` for its failures.
   */
  scraping?: MetricsScraping;
  log?: Logger;
  /** The worker's first restart delay after it died (ms; tests shorten it). */
  workerRestartMs?: number;
}

export const DEFAULT_METRICS_SCRAPER_OPTIONS: Omit<MetricsScraperOptions, 'engines' | 'onError' | 'auth' | 'scraping' | 'log' | 'workerRestartMs'> = {
  refreshMetricsIntervalMs: 50,
  timeoutMs: 1000,
  path: '/metrics',
  maxBodyBytes: 8 * 1024 * 1024,
  defaultEngine: DEFAULT_ENGINE,
};

/** Counters since construction, for benchmarks and debugging. */
export interface ScrapeStats {
  scrapes: number;
  failures: number;
  /** Ticks at which an endpoint was due but its previous scrape had not finished. */
  skippedBusy: number;
  /** Ticks at which an endpoint was due but was left for later because its last scrapes failed (`ep.scrapeRetry`). */
  skippedFailing: number;
}

/**
 * The longest a failing endpoint waits between scrapes: half the staleness threshold, so a pod that comes back
 * has fresh metrics within a second, while one that stays down costs one attempt a second instead of twenty.
 */
export const SCRAPE_RETRY_MAX_MS = 1000;

export class MetricsScraper {
  readonly options: MetricsScraperOptions;
  #store: Datastore;
  /** In-thread mode's connections; undefined in worker mode, where the worker holds them. */
  #agents: OriginClients | undefined;
  #worker: ScrapeWorker | undefined;
  #timer: NodeJS.Timeout | undefined;
  #pending = new Map<Endpoint, Promise<void>>();
  #closed: Promise<void> | undefined;
  /** Endpoints are dealt round-robin into slots of the interval, so 100 pods are not all asked at once. */
  #slotCount: number;
  #slots = new WeakMap<Endpoint, number>();
  #nextSlot = 0;
  #stats: ScrapeStats = { scrapes: 0, failures: 0, skippedBusy: 0, skippedFailing: 0 };

  constructor(store: Datastore, options: Partial<MetricsScraperOptions> = {}) {
    this.#store = store;
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<MetricsScraperOptions>;
    this.options = { ...DEFAULT_METRICS_SCRAPER_OPTIONS, engines: engineMetricMaps(), ...defined };
    const { refreshMetricsIntervalMs: interval, timeoutMs } = this.options;
    if (!(interval > 0)) throw new RangeError(`refreshMetricsIntervalMs must be positive, got ${interval}`);
    if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
    if (!this.options.engines.has(this.options.defaultEngine)) {
      throw new RangeError(`defaultEngine ${this.options.defaultEngine} has no metric map; known: ${[...this.options.engines.keys()].join(', ')}`);
    }
    // About 10 ms between slots at the default 50 ms; never more than 10 slots.
    this.#slotCount = Math.max(1, Math.min(10, Math.round(interval / 10)));
    if (this.options.scraping === 'worker') {
      if (!this.options.log) throw new TypeError('worker scraping needs a log for the worker\'s failures');
      this.#worker = new ScrapeWorker({ log: this.options.log, engines: this.options.engines, ...(this.options.workerRestartMs !== undefined ? { restartMs: this.options.workerRestartMs } : {}) });
    } else this.#agents = new OriginClients(SCRAPE_CLIENTS);
  }

  /** Where scrapes run. */
  get scraping(): MetricsScraping {
    return this.#worker ? 'worker' : 'in-thread';
  }

  /** The scraping worker (worker mode), for its restart count and tests. */
  get worker(): ScrapeWorker | undefined {
    return this.#worker;
  }

  get stats(): ScrapeStats {
    return { ...this.#stats };
  }

  /**
   * Ticks every interval/slots ms and scrapes the endpoints of the slots that have come due: each endpoint
   * once per interval, the first time within one interval of start. Due slots are counted from the clock,
   * not from ticks, so a late timer does not stretch the interval; after a long stall at most one round is
   * made up. An endpoint whose scrapes keep failing waits twice as long after each failure, up to
   * SCRAPE_RETRY_MAX_MS (`ep.scrapeRetry`), and is back to every interval after one success. The datastore is
   * read on every tick, so endpoints that come and go with snapshots need no bookkeeping here.
   */
  start(): void {
    this.stop();
    if (this.#closed) return;
    const slots = this.#slotCount;
    const slotMs = this.options.refreshMetricsIntervalMs / slots;
    const t0 = performance.now();
    let done = 0;
    const dueSlots = new Array<boolean>(slots).fill(false);
    this.#timer = setInterval(() => {
      const due = Math.floor((performance.now() - t0) / slotMs);
      if (due <= done) return;
      done = Math.max(done, due - slots);
      for (; done < due; done++) dueSlots[done % slots] = true;
      // Half a slot early counts as due, so a retry wait that ends between two ticks is not stretched by one.
      const now = Date.now() + slotMs / 2;
      for (const ep of this.#store.endpoints()) {
        if (!dueSlots[this.#slotOf(ep)]) continue;
        if (this.#pending.has(ep)) this.#stats.skippedBusy++;
        else if (!ep.scrapeRetry.due(now)) this.#stats.skippedFailing++;
        else void this.scrape(ep);
      }
      dueSlots.fill(false);
    }, slotMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops, waits for scrapes in flight, then closes the connections (and the worker); idempotent. */
  close(): Promise<void> {
    this.stop();
    this.#closed ??= Promise.allSettled(this.#pending.values()).then(() => Promise.all([this.#agents?.close(), this.#worker?.close()])).then(() => undefined);
    return this.#closed;
  }

  /** Scrapes the given endpoints (default: all in the datastore) once; resolves when all are done. Never rejects. */
  scrapeAll(endpoints: Iterable<Endpoint> = this.#store.endpoints()): Promise<void> {
    return Promise.all([...endpoints].map((ep) => this.scrape(ep))).then(() => undefined);
  }

  /** Scrapes one endpoint, or joins its scrape in flight. Never rejects: failures land in `ep.metricsError`. */
  scrape(ep: Endpoint): Promise<void> {
    let p = this.#pending.get(ep);
    if (!p) {
      if (this.#closed) return Promise.resolve();
      p = this.#scrape(ep).finally(() => this.#pending.delete(ep));
      this.#pending.set(ep, p);
    }
    return p;
  }

  #slotOf(ep: Endpoint): number {
    let slot = this.#slots.get(ep);
    if (slot === undefined) {
      slot = this.#nextSlot++ % this.#slotCount;
      this.#slots.set(ep, slot);
    }
    return slot;
  }

  async #scrape(ep: Endpoint): Promise<void> {
    const { path, timeoutMs, maxBodyBytes } = this.options;
    this.#stats.scrapes++;
    let outcome: ScrapeOutcome;
    try {
      const engine = this.#engineOf(ep);
      // The pod's answer must count every request the gateway sent it a while ago and has not had answered. The
      // mark is made here, on the request thread that counts requests, before the job can reach a worker: the
      // GET always leaves after it, so a request counted as sent before the scrape was.
      metricsScrapeStarted(ep, Date.now());
      const auth = this.options.auth?.headersFor(ep);
      const job: ScrapeJob = { origin: ep.origin, path, h2c: ep.h2c, engine, timeoutMs, maxBytes: maxBodyBytes, headers: auth ? { ...SCRAPE_ACCEPT, ...auth } : { ...SCRAPE_ACCEPT } };
      outcome = await (this.#worker ? this.#worker.read(job) : readEndpointMetrics(job, this.#agents!, this.options.engines));
    } catch (e) {
      const err = e as Error & { code?: string };
      outcome = { ok: false, refused: 0, why: failureText(err) };
    }
    if (outcome.ok) {
      ep.metrics = { ...outcome.reading, updatedAt: outcome.at };
      metricsScraped(ep);
      ep.metricsError = undefined;
      ep.metricsRefused = 0;
      ep.scrapeRetry.succeeded();
      return;
    }
    this.#stats.failures++;
    ep.metricsFailures++;
    const interval = this.options.refreshMetricsIntervalMs;
    ep.scrapeRetry.failed(Date.now(), interval, Math.max(interval, SCRAPE_RETRY_MAX_MS));
    const url = `${ep.origin}${path}`;
    ep.metricsRefused = outcome.refused;
    const message = outcome.refused !== 0 ? (this.options.auth?.refused(ep, url, outcome.refused) ?? refusalMessage(url, outcome.refused, undefined, undefined)) : `GET ${url} failed: ${outcome.why}`;
    // The old metrics stay while they are recent (one failed scrape of a busy pod is no news); past the
    // staleness threshold they are dropped, so scorers rank the endpoint as unknown (worst) instead of
    // trusting a dead pod's last good numbers forever.
    if (ep.metrics && isStale(ep, Date.now())) ep.metrics = undefined;
    const changed = ep.metricsError !== message;
    ep.metricsError = message;
    if (changed) this.options.onError?.(ep, message);
  }

  /** The endpoint's engine, by name; throws when no metric map has that name. */
  #engineOf(ep: Endpoint): string {
    const engine = engineTypeOf(ep, this.options.defaultEngine);
    if (!this.options.engines.has(engine)) {
      throw new Error(`pod ${ep.podKey} is labelled ${ENGINE_TYPE_LABEL}=${engine}, but no engine metrics config is named ${engine}; known: ${[...this.options.engines.keys()].join(', ')}`);
    }
    return engine;
  }
}
