/**
 * infergate's own per-endpoint series, read at scrape time from each Endpoint's live state: whether it is
 * held out of picking and why, how fresh its metrics are, scrape and connection failures, what its
 * `GET /v1/models` discovery knows, and requests in flight. Labels `{pool, endpoint, pod}`: an endpoint
 * two pools select shows under each.
 */
import type { Registry } from 'prom-client';
import type { Datastore, PoolView } from '../../epp/datastore/datastore.js';
import type { Endpoint } from '../../epp/datastore/endpoint.js';
import type { PoolSchedulers } from '../../epp/pool-schedulers.js';
import { DEFAULT_SATURATION_THRESHOLDS, poolSaturation } from '../../epp/plugins/utilization-detector.js';
import { unreportedRequests } from '../../upstream/in-flight.js';
import type { OutlierStats } from '../../upstream/outlier-detector.js';
import { CollectedFamily, type Emit } from './collected-family.js';
import { register } from './family.js';

const E = ['pool', 'endpoint', 'pod'];

/** Why an endpoint is left out of picking (src/epp/eligibility.ts), as the `reason` label says it. */
export const HELD_OUT_REASONS = ['backoff', 'ejected', 'unresponsive'] as const;
export type HeldOutReason = (typeof HELD_OUT_REASONS)[number];

export function heldOut(ep: Endpoint, reason: HeldOutReason, now: number): boolean {
  if (reason === 'backoff') return ep.inBackoff(now);
  if (reason === 'ejected') return ep.outlier.isEjected(now);
  return unreportedRequests(ep) > 0;
}

/** `ok`: the last `GET /v1/models` answered; `failing`: it failed (what it served before is kept); `pending`: none answered yet. */
export function discoveryState(ep: Endpoint): 'ok' | 'failing' | 'pending' {
  if (ep.modelsError !== undefined) return 'failing';
  return ep.models ? 'ok' : 'pending';
}

export interface EndpointCollectorSources {
  datastore: Datastore;
  schedulers: PoolSchedulers;
  /** Outlier detection's counters (Envoy's `ejections_enforced_*`). */
  outlierStats?: OutlierStats;
}

export class EndpointCollector {
  readonly #s: EndpointCollectorSources;
  readonly families: CollectedFamily[];

  constructor(sources: EndpointCollectorSources) {
    this.#s = sources;
    const family = (type: 'gauge' | 'counter', name: string, help: string, collect: (emit: Emit) => void, labelNames = E): CollectedFamily =>
      new CollectedFamily({ type, name, help, labelNames, collect });
    this.families = [
      family('gauge', 'infergate_endpoint_held_out', 'Whether the endpoint is left out of picking (1) and why: backoff after a connection failure, ejected by outlier detection, or unresponsive (holds requests it neither answers nor reports).', (emit) =>
        this.#each((pool, ep, now) => {
          for (const reason of HELD_OUT_REASONS) emit(heldOut(ep, reason, now) ? 1 : 0, pool, ep.address, ep.podKey, reason);
        }),
        [...E, 'reason'],
      ),
      family('gauge', 'infergate_endpoint_metrics_stale', "Whether the endpoint's scraped metrics are missing or older than its pool's saturation detector allows (utilization-detector metricsStalenessThreshold, 200 ms by default): 1 means admission counts it as full.", (emit) =>
        this.#eachPool((view, pool, now) => {
          const staleMs = this.#staleMs(view);
          for (const ep of view.endpoints) emit(ep.metrics === undefined || now - ep.metrics.updatedAt > staleMs ? 1 : 0, pool, ep.address, ep.podKey);
        }),
      ),
      family('gauge', 'infergate_endpoint_metrics_age_seconds', "Seconds since the endpoint's /metrics was last scraped successfully; absent until one succeeded.", (emit) =>
        this.#each((pool, ep, now) => {
          if (ep.metrics) emit(Math.max(0, now - ep.metrics.updatedAt) / 1000, pool, ep.address, ep.podKey);
        }),
      ),
      family('counter', 'infergate_endpoint_scrape_failures_total', "Failed scrapes of the endpoint's /metrics (timeouts, refused connections, non-200 answers, unparsable text).", (emit) =>
        this.#each((pool, ep) => emit(ep.metricsFailures, pool, ep.address, ep.podKey)),
      ),
      family('counter', 'infergate_upstream_connect_failures_total', 'Connection failures to the endpoint before it answered (refused, reset, unreachable, connect timeout); each holds it out for a backoff.', (emit) =>
        this.#each((pool, ep) => emit(ep.connectFailures, pool, ep.address, ep.podKey)),
      ),
      family('gauge', 'infergate_endpoint_discovery_state', "The endpoint's GET /v1/models discovery: ok (answered last time), failing (the last call failed; what it served before is kept) or pending (never answered).", (emit) =>
        this.#each((pool, ep) => {
          const state = discoveryState(ep);
          for (const s of ['ok', 'failing', 'pending'] as const) emit(state === s ? 1 : 0, pool, ep.address, ep.podKey, s);
        }),
        [...E, 'state'],
      ),
      family('gauge', 'infergate_endpoint_served_models', 'Models and LoRA adapters the endpoint listed in its last GET /v1/models answer; absent until it answered.', (emit) =>
        this.#each((pool, ep) => {
          if (ep.models) emit(ep.models.size, pool, ep.address, ep.podKey);
        }),
      ),
      family('gauge', 'infergate_endpoint_in_flight_requests', 'Requests the gateway has sent to the endpoint that have not finished.', (emit) =>
        this.#each((pool, ep) => emit(ep.inFlight, pool, ep.address, ep.podKey)),
      ),
      family('gauge', 'infergate_pool_saturation', "The pool's load as its saturation detector sees it: the mean of each endpoint's max(waiting / queueDepthThreshold, kv cache / kvCacheUtilThreshold); at 1 or more, requests of negative priority are shed.", (emit) =>
        this.#eachPool((view, pool, now) => {
          if (view.endpoints.length > 0) emit(poolSaturation(view.endpoints, now, this.#thresholds(view)).level, pool);
        }),
        ['pool'],
      ),
      family('counter', 'infergate_outlier_ejections_total', 'Endpoints ejected by outlier detection, by Envoy detector type (consecutive_5xx, consecutive_gateway_failure).', (emit) => {
        const st = this.#s.outlierStats;
        if (!st) return;
        emit(st.ejectionsEnforcedConsecutive5xx, 'consecutive_5xx');
        emit(st.ejectionsEnforcedConsecutiveGatewayFailure, 'consecutive_gateway_failure');
      }, ['type']),
      family('counter', 'infergate_outlier_ejections_overflow_total', "Ejections outlier detection skipped because the pool was at its max ejection percent (Envoy's ejections_overflow).", (emit) => {
        const st = this.#s.outlierStats;
        if (st) emit(st.ejectionsOverflow);
      }, []),
    ];
  }

  register(registry: Registry): void {
    for (const f of this.families) register(registry, f);
  }

  #thresholds(view: PoolView): typeof DEFAULT_SATURATION_THRESHOLDS {
    return this.#s.schedulers.forPool(view.key)?.loaded.saturation ?? DEFAULT_SATURATION_THRESHOLDS;
  }

  #staleMs(view: PoolView): number {
    return this.#thresholds(view).metricsStalenessThresholdMs;
  }

  #eachPool(fn: (view: PoolView, pool: string, now: number) => void): void {
    const now = Date.now();
    for (const view of this.#s.datastore.pools()) fn(view, view.key, now);
  }

  #each(fn: (pool: string, ep: Endpoint, now: number) => void): void {
    this.#eachPool((view, pool, now) => {
      for (const ep of view.endpoints) fn(pool, ep, now);
    });
  }
}
