/** One endpoint as the dashboard shows it: readiness, load, what it serves and where each mapping came from, why it is held out. */
import type { AllowlistTable } from '../../bbr/allowlist-table.js';
import type { Endpoint } from '../../epp/datastore/endpoint.js';
import type { CandidateVerdict } from '../../epp/eligibility.js';
import type { KvEventsEndpointView } from './kv-events-view.js';

/** How a model the endpoint lists maps to a base model, and who said so. */
export interface ServedModelView {
  id: string;
  /** The base model: itself for a base model. */
  base: string;
  adapter: boolean;
  /**
   * Where the mapping came from: the allowlist ConfigMap naming it (it wins, as in routing), else the pod's
   * `GET /v1/models` (an adapter's `parent`).
   */
  mappedBy: string;
  /** Set when an allowlist maps an adapter to another base than the pod reports. */
  conflict?: string;
}

export type EndpointState = 'serving' | 'not ready' | 'held out' | 'ejected' | 'unresponsive' | 'unreachable' | 'no models yet';

/** Failed /metrics scrapes in a row after which an endpoint with stale metrics shows as unreachable. */
export const UNREACHABLE_AFTER_SCRAPE_FAILURES = 3;

export interface EndpointView {
  address: string | null;
  pod: string;
  /** The pod's Ready condition. */
  ready: boolean;
  /** `serving` when a request for a model it serves may be sent to it now. */
  state: EndpointState;
  /** Why it is not `serving`. */
  reason?: string;
  inFlight: number;
  /** From the last successful /metrics scrape; null until one succeeded. */
  waiting: number | null;
  running: number | null;
  /** 0..1 */
  kvCache: number | null;
  loras: { running: readonly string[]; waiting: readonly string[]; max: number } | null;
  /** Age of the last successful scrape (ms); null when none succeeded. */
  scrapeAgeMs: number | null;
  /** Older than the pool's saturation detector allows (metricsStalenessThreshold), or never scraped. */
  stale: boolean;
  scrapeError: string | null;
  scrapeFailures: number;
  models: ServedModelView[];
  modelsError: string | null;
  /** Age of the last `GET /v1/models` answer (ms); null when it never answered. */
  modelsAgeMs: number | null;
  /** Its KV-event stream, in a pool that uses precise prefix routing (kv-events-view.ts); absent otherwise. */
  kvEvents?: KvEventsEndpointView;
  /** The last ejection outlier detection made, even when over (what happened last). */
  lastEjection?: { type: string; detail: string; at: string; until: string };
}

/** `verdict` is the pick's own judgement of the endpoint for a model-blind request (src/epp/eligibility.ts). */
export function endpointView(ep: Endpoint, verdict: CandidateVerdict | undefined, table: AllowlistTable, now: number, staleMs: number): EndpointView {
  const m = ep.metrics;
  const view: EndpointView = {
    address: ep.address,
    pod: ep.podKey,
    ready: ep.pod.ready,
    state: 'serving',
    inFlight: ep.inFlight,
    waiting: m ? ep.waitingQueue() : null,
    running: m ? m.runningQueueSize : null,
    kvCache: m ? m.kvCacheUsagePercent : null,
    loras: m ? { running: m.runningLoras, waiting: m.waitingLoras, max: m.maxLoras } : null,
    scrapeAgeMs: m ? Math.max(0, now - m.updatedAt) : null,
    stale: m === undefined || now - m.updatedAt > staleMs,
    scrapeError: ep.metricsError ?? null,
    scrapeFailures: ep.metricsFailures,
    models: ep.models ? [...ep.models.values()].map((card) => servedModel(card.id, card.parent, table)) : [],
    modelsError: ep.modelsError ?? null,
    modelsAgeMs: ep.models ? Math.max(0, now - ep.modelsFetchedAt) : null,
  };
  const e = ep.outlier.ejection;
  if (e) view.lastEjection = { type: e.type, detail: e.detail, at: new Date(e.at).toISOString(), until: new Date(e.until).toISOString() };
  if (verdict?.excluded !== undefined) {
    view.state = ep.outlier.isEjected(now) ? 'ejected' : ep.inBackoff(now) ? 'held out' : 'unresponsive';
    view.reason = verdict.excluded;
  } else if (ep.scrapeRetry.failures >= UNREACHABLE_AFTER_SCRAPE_FAILURES && view.stale) {
    // Still a candidate (a request that cannot connect is tried elsewhere), but "serving" would hide a dead pod.
    view.state = 'unreachable';
    const models = ep.modelsError ? `, and GET /v1/models fails (${ep.modelsError})` : '';
    view.reason = `its last ${ep.scrapeRetry.failures} /metrics scrapes failed (${ep.metricsError ?? 'no answer'})${models}: its load is unknown; a request it cannot take is tried on another endpoint`;
  } else if (!ep.models) {
    view.state = 'no models yet';
    view.reason = `has not answered GET /v1/models yet${ep.modelsError ? ` (${ep.modelsError})` : ''}: only requests without a model may go to it`;
  }
  return view;
}

/** A pod the pool selects that cannot take traffic (not Ready, no IP). */
export function excludedPodView(pod: string, ready: boolean, reason: string): EndpointView {
  return {
    address: null,
    pod,
    ready,
    state: 'not ready',
    reason,
    inFlight: 0,
    waiting: null,
    running: null,
    kvCache: null,
    loras: null,
    scrapeAgeMs: null,
    stale: true,
    scrapeError: null,
    scrapeFailures: 0,
    models: [],
    modelsError: null,
    modelsAgeMs: null,
  };
}

function servedModel(id: string, parent: string | null, table: AllowlistTable): ServedModelView {
  const listed = table.adapters.get(id);
  if (listed) {
    const v: ServedModelView = { id, base: listed.base, adapter: true, mappedBy: listed.origin };
    if (parent !== null && parent !== listed.base) v.conflict = `the pod reports base ${parent}; ${listed.origin} wins`;
    return v;
  }
  const bases = table.bases.get(id);
  if (bases) return { id, base: id, adapter: false, mappedBy: bases.join(', ') };
  return parent !== null ? { id, base: parent, adapter: true, mappedBy: 'GET /v1/models (parent)' } : { id, base: id, adapter: false, mappedBy: 'GET /v1/models' };
}
