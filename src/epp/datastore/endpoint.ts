/** One model-server endpoint (pod IP x target port) and what the gateway knows of it right now. */
import type { Pod } from '../../api/pod.js';
import { keyOf } from '../../api/object-meta.js';
import { UnansweredAges } from '../../upstream/unanswered-ages.js';
import { OutlierState } from '../../upstream/outlier-state.js';
import type { EndpointMetrics } from './endpoint-metrics.js';
import type { ModelCard } from '../../api/model-card.js';
import { RetrySchedule } from './retry-schedule.js';

const MAX_BACKOFF_MS = 30_000;

/**
 * Mutable live state of an endpoint. Objects survive configuration reloads while their address stays, so
 * in-flight counts and discovered models are not lost when an unrelated file changes.
 */
export class Endpoint {
  readonly address: string;
  readonly ip: string;
  readonly port: number;
  /**
   * Spoken to over HTTP/2 cleartext with prior knowledge (its pool's `appProtocol: kubernetes.io/h2c`) for
   * requests, `GET /v1/models` and /metrics; else HTTP/1.1. Fixed for the object's life: a pool that changes
   * protocol gets new Endpoint objects (src/epp/datastore/datastore.ts).
   */
  readonly h2c: boolean;
  pod: Pod;
  /** Requests the gateway has sent here that have not finished; counted at pick time. */
  inFlight = 0;
  /** Of those, the ones with no response byte back yet (src/upstream/in-flight.ts keeps these counts). */
  unanswered = 0;
  /** How old the unanswered ones are, against the pod's /metrics scrapes. */
  readonly unansweredAges = new UnansweredAges();
  /** What `GET /v1/models` last returned; undefined until it first answered. */
  models: ReadonlyMap<string, ModelCard> | undefined;
  /** Why the last `GET /v1/models` failed, if it did. */
  modelsError: string | undefined;
  /**
   * Set while `GET /v1/models` answers 200 with something other than a model list: a server that is not an
   * OpenAI-compatible model server (the echo pods of GIE's conformance suite) and cannot say what it serves. It is
   * sent any model, as GIE's EPP sends every model to every pod of the pool.
   */
  modelsUnlisted = false;
  /**
   * Set while `GET /v1/models` fails because the endpoint speaks another protocol than its pool's
   * `appProtocol` says (src/upstream/protocol-mismatch.ts): what the client's error names instead of discovery.
   */
  protocolMismatch: string | undefined;
  modelsFetchedAt = 0;
  /** 401 or 403 when the last `GET /v1/models` was refused for want of the right API key; else 0. */
  modelsRefused = 0;
  /** When model discovery asks again while `GET /v1/models` fails (src/epp/datastore/model-discovery.ts). */
  readonly modelsRetry = new RetrySchedule();
  /** The last successful scrape of the endpoint's /metrics; undefined until one succeeded. */
  metrics: EndpointMetrics | undefined;
  /** Why the last scrape failed, if it did. */
  metricsError: string | undefined;
  /** 401 or 403 when the last scrape was refused for want of the right API key; else 0. */
  metricsRefused = 0;
  /** Failed /metrics scrapes since this endpoint appeared (`infergate_endpoint_scrape_failures_total`). */
  metricsFailures = 0;
  /** When the scraper tries again while scrapes fail (src/epp/metrics/metrics-scraper.ts). */
  readonly scrapeRetry = new RetrySchedule();
  /** Held out of picking after connection failures: 1 s, 2 s, 4 s ... up to 30 s, until one answers. */
  readonly connectRetry = new RetrySchedule();
  /** Connection failures before an answer since this endpoint appeared (`infergate_upstream_connect_failures_total`). */
  connectFailures = 0;
  /** Outlier detection's view: failures in a row and the current ejection (src/upstream/outlier-detector.ts). */
  readonly outlier = new OutlierState();

  constructor(pod: Pod, ip: string, port: number, h2c = false) {
    this.pod = pod;
    this.ip = ip;
    this.port = port;
    this.h2c = h2c;
    // IPv6 addresses are bracketed so `address` is always a valid authority and splits on the last colon.
    this.address = ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
  }

  get podKey(): string {
    return keyOf(this.pod.meta);
  }

  get origin(): string {
    return `http://${this.address}`;
  }

  /**
   * The waiting queue the scorers and the saturation rule read: `vllm:num_requests_waiting` from the last
   * scrape, plus the requests this gateway sent here that have not been answered and that the pod does not
   * report. A healthy vLLM answers a stream's headers at once and counts every request it holds in
   * running + waiting, so unanswered requests beyond that are load the pod does not see: one that accepts
   * connections and answers nothing, while its /metrics look idle, looks busier with each request sent to it.
   * 0 without metrics (scorers rank such an endpoint by its missing metrics instead).
   */
  waitingQueue(): number {
    const m = this.metrics;
    if (!m) return 0;
    const unseen = this.unanswered - m.runningQueueSize - m.waitingQueueSize;
    return unseen > 0 ? m.waitingQueueSize + unseen : m.waitingQueueSize;
  }

  /** undefined when the endpoint has not said what it serves yet. */
  serves(model: string): boolean | undefined {
    return this.models ? this.models.has(model) : undefined;
  }

  setModels(cards: readonly ModelCard[], now: number): void {
    this.models = new Map(cards.map((c) => [c.id, c]));
    this.modelsUnlisted = false;
    this.modelsError = undefined;
    this.modelsRefused = 0;
    this.modelsFetchedAt = now;
  }

  /** Held out of picking until this time (ms since epoch) after a connection failure; 0 when not. */
  get backoffUntil(): number {
    return this.connectRetry.nextAt;
  }

  set backoffUntil(at: number) {
    this.connectRetry.nextAt = at;
  }

  /** Connection failures in a row since the last answer. */
  get consecutiveFailures(): number {
    return this.connectRetry.failures;
  }

  /** Exponential backoff: 1 s, 2 s, 4 s ... capped at 30 s. */
  markConnectFailure(now: number, baseMs = 1000): void {
    this.connectFailures++;
    this.connectRetry.failed(now, baseMs, MAX_BACKOFF_MS);
  }

  markReachable(): void {
    this.connectRetry.succeeded();
  }

  inBackoff(now: number): boolean {
    return !this.connectRetry.due(now);
  }
}
