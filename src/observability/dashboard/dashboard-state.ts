/** The JSON the dashboard page polls (`GET /api/state`): pools and endpoints, config issues, traffic, recent decisions. */
import { lookupBaseModel, servedModels } from '../../bbr/resolve-base-model.js';
import type { Datastore } from '../../epp/datastore/datastore.js';
import { judgeCandidates } from '../../epp/eligibility.js';
import type { PoolSchedulers } from '../../epp/pool-schedulers.js';
import { DEFAULT_SATURATION_THRESHOLDS } from '../../epp/plugins/utilization-detector.js';
import type { GatewayState } from '../../plan/plan-request.js';
import type { Decision, DecisionLog } from '../decision-log.js';
import type { DashboardObserver } from './dashboard-observer.js';
import { endpointView, excludedPodView, type EndpointView } from './endpoint-view.js';
import type { RecentRequest } from './recent-requests.js';
import type { TrafficSeries, TrafficTotals } from './request-buckets.js';
import { flowControlReport, type PoolFlowReport } from '../../flowcontrol/flow-control-report.js';
import type { PickerRef } from '../../epp/picker-ref.js';
import type { InferencePool } from '../../api/inference-pool.js';
import { failureModeOf } from '../../epp/failure-mode.js';
import type { ProcessState, ProcessView } from './process-view.js';
import type { KvEventsHub } from '../../kvevents/kv-events-hub.js';
import { kvEventsEndpointView, kvEventsPoolView, poolKvView, type KvEventsPoolView } from './kv-events-view.js';

/** What the dashboard reads; `serve`'s and `extproc`'s Gateway has all of it. */
export interface DashboardGateway {
  readonly datastore: Datastore;
  readonly schedulers: PoolSchedulers;
  readonly state: GatewayState | undefined;
  readonly shuttingDown: boolean;
  /** The `/readyz` details: a held-back or rejected config change, ejected endpoints, ... */
  readiness(): Record<string, unknown>;
  /** The KV-event subscriptions of the precise prefix plugins in force. */
  readonly plugins?: { readonly kvEvents: KvEventsHub };
}

export interface DashboardSources {
  /** Which front door: `serve` proxies requests itself; `extproc` picks for Envoy and sees only what passes it. */
  mode: 'serve' | 'extproc';
  gateway: DashboardGateway;
  decisions: DecisionLog;
  traffic: DashboardObserver;
  /** The Kubernetes source's objects left out of the configuration, `Kind/namespace/name` -> why. */
  rejectedObjects?: () => ReadonlyMap<string, readonly string[]>;
  /** infergate's version, shown in the header. */
  version?: string;
  /** The process's load and memory (mountDashboard makes one). */
  process?: ProcessView;
}

export interface PoolState {
  name: string;
  selector: Readonly<Record<string, string>>;
  targetPorts: readonly number[];
  /**
   * Who picks its endpoints (its `spec.endpointPickerRef`): infergate; an external picker (`detail`: its Service,
   * where infergate asks it, its failureMode); or nobody, the ref being unresolved (`detail`: why).
   */
  picker: { by: 'infergate' | 'external' | 'missing'; detail: string };
  /** Where the pool's EndpointPickerConfig came from (an external picker's pool uses it only under FailOpen). */
  endpointPickerConfig: string | null;
  /** Why the pool's own EndpointPickerConfig could not be used (Kubernetes: it keeps its previous one). */
  configProblem: string | null;
  /**
   * Its precise prefix index, when its scheduler reads the pods' KV events (precise-prefix-cache-*); null otherwise.
   * Each of its endpoints then has `kvEvents`: whether it is scored on its events or on the approximate view, and why.
   */
  kvEvents: KvEventsPoolView | null;
  endpoints: EndpointView[];
}

export interface ModelMapping {
  model: string;
  base: string;
  adapter: boolean;
  /** Allowlist ConfigMap(s), or the pod whose `GET /v1/models` listed it. */
  source: string;
  /** Pods listing it in `GET /v1/models`. */
  pods: string[];
}

export interface DashboardState {
  generatedAt: string;
  mode: 'serve' | 'extproc';
  version: string | null;
  ready: boolean;
  shuttingDown: boolean;
  configVersion: number | null;
  strictAllowlist: boolean;
  /** How busy the request thread is, CPU and memory; null when no ProcessView was given. */
  process: ProcessState | null;
  pools: PoolState[];
  /** Flow control's queues, per pool with `featureGates: [flowControl]` (src/flowcontrol); empty otherwise. */
  flowControl: PoolFlowReport[];
  models: ModelMapping[];
  issues: {
    /** Problems that did not stop the configuration from loading. */
    warnings: readonly string[];
    /** Kubernetes objects left out, and why. */
    rejectedObjects: { object: string; problems: readonly string[] }[];
    /** Pools whose own EndpointPickerConfig could not be used. */
    eppConfigProblems: { pool: string; problem: string }[];
    /** The `/readyz` details: `config.held` (a held-back edit), `config.rejected`, `ejected`, ... */
    readiness: Record<string, unknown>;
  };
  traffic: {
    /** Where the numbers come from, in words (they differ between serve and extproc). */
    source: string;
    total: number;
    series: TrafficSeries;
    lastMinute: TrafficTotals;
    window: TrafficTotals;
    recent: RecentRequest[];
  };
  decisions: {
    enabled: boolean;
    /** How to turn them on, when they are off. */
    howToEnable: string | null;
    requestIds: 'shown' | 'hashed';
    capacity: number;
    latest: Decision[];
  };
}

export interface StateQuery {
  /** Seconds of traffic to chart (capped at the observer's history). */
  windowS?: number;
  stepS?: number;
  /** Decisions listed. */
  decisions?: number;
}

const TRAFFIC_SOURCE = {
  serve: 'every request this gateway answered (rate, errors by the gateway code or the model server status, time to first token)',
  extproc:
    "the requests the endpoint picker handled for Envoy: the picks, the picker's own refusals and the statuses of the responses that passed it; TTFT only where Envoy sends the response body to the picker",
} as const;

const DECISIONS_HOW_TO = {
  serve: 'start the gateway with --debug-decisions N (for example 50) to keep the last N scheduling decisions with every plugin\'s scores; they expose per-request routing data, see docs/configuration.md',
  extproc: 'start infergate extproc with --debug-decisions N (for example 50) to keep the last N picks with every plugin\'s scores; they expose per-request routing data, see docs/configuration.md',
} as const;

/** The state at `now` (ms since the epoch). */
export function dashboardState(s: DashboardSources, q: StateQuery = {}, now = Date.now()): DashboardState {
  const gw = s.gateway;
  const state = gw.state;
  const table = state?.snapshot.allowlistTable;
  const pools: PoolState[] = [];
  for (const view of gw.datastore.pools()) {
    const ps = gw.schedulers.forPool(view.key);
    const staleMs = ps?.loaded.saturation.metricsStalenessThresholdMs ?? DEFAULT_SATURATION_THRESHOLDS.metricsStalenessThresholdMs;
    const verdicts = new Map(judgeCandidates(view, { model: undefined, now }, now).map((v) => [v.address, v]));
    const kv = poolKvView(gw.plugins?.kvEvents, ps);
    const endpoints = view.endpoints.map((ep) => {
      const v = endpointView(ep, verdicts.get(ep.address), table ?? EMPTY_TABLE, now, staleMs);
      const stream = kv && kvEventsEndpointView(kv, ep.address, now);
      if (stream) v.kvEvents = stream;
      return v;
    });
    for (const m of view.excluded) endpoints.push(excludedPodView(`${m.pod.meta.namespace}/${m.pod.meta.name}`, m.pod.ready, m.excluded ?? 'excluded'));
    pools.push({
      name: view.key,
      selector: view.pool.selector,
      targetPorts: view.pool.targetPorts,
      picker: pickerOf(gw.schedulers.pickerRef(view.key), view.pool),
      endpointPickerConfig: ps?.origin ?? null,
      configProblem: gw.schedulers.problems.get(view.key) ?? null,
      kvEvents: kv ? kvEventsPoolView(kv) : null,
      endpoints,
    });
  }
  pools.sort((a, b) => a.name.localeCompare(b.name));
  const windowS = clamp(q.windowS ?? 300, 10, s.traffic.buckets.capacity);
  const stepS = clamp(q.stepS ?? Math.max(1, Math.ceil(windowS / 300)), 1, 60);
  const report = s.decisions.enabled ? s.decisions.report(String(clamp(q.decisions ?? 10, 0, 100))) : undefined;
  return {
    generatedAt: new Date(now).toISOString(),
    mode: s.mode,
    version: s.version ?? null,
    ready: state !== undefined && !gw.shuttingDown,
    shuttingDown: gw.shuttingDown,
    configVersion: state?.snapshot.version ?? null,
    strictAllowlist: state?.strictAllowlist ?? false,
    process: s.process?.read() ?? null,
    pools,
    flowControl: flowControlReport(state?.flowControl, now),
    models: state ? modelMappings(state) : [],
    issues: {
      warnings: state?.snapshot.warnings ?? [],
      rejectedObjects: [...(s.rejectedObjects?.() ?? new Map<string, readonly string[]>())].map(([object, problems]) => ({ object, problems })),
      eppConfigProblems: [...gw.schedulers.problems].map(([pool, problem]) => ({ pool, problem })),
      readiness: gw.readiness(),
    },
    traffic: {
      source: TRAFFIC_SOURCE[s.mode],
      total: s.traffic.total,
      series: s.traffic.buckets.series(now, windowS, stepS),
      lastMinute: s.traffic.buckets.totals(now, 60),
      window: s.traffic.buckets.totals(now, windowS),
      recent: s.traffic.recent.list(),
    },
    decisions: {
      enabled: s.decisions.enabled,
      howToEnable: s.decisions.enabled ? null : DECISIONS_HOW_TO[s.mode],
      requestIds: s.decisions.showRequestIds ? 'shown' : 'hashed',
      capacity: s.decisions.capacity,
      latest: report?.decisions ?? [],
    },
  };
}

/** Every model name a client may send, its base and where that mapping came from (routing's own lookup). */
function modelMappings(state: GatewayState): ModelMapping[] {
  const table = state.snapshot.allowlistTable;
  const catalog = state.datastore.catalog();
  const out: ModelMapping[] = [];
  for (const model of servedModels(table, catalog, state.strictAllowlist)) {
    const r = lookupBaseModel(model, table, catalog, state.strictAllowlist);
    if (!r) continue;
    out.push({ model, base: r.baseModel, adapter: r.isAdapter, source: r.source, pods: catalog.models.get(model)?.pods ?? [] });
  }
  return out;
}

const EMPTY_TABLE = { bases: new Map(), adapters: new Map() } as const;

function clamp(n: number, lo: number, hi: number): number {
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, Math.floor(n))) : lo;
}

/** The pool's picker as the page shows it. */
function pickerOf(ref: PickerRef | undefined, pool: InferencePool): PoolState['picker'] {
  if (ref?.picker === 'external') return { by: 'external', detail: `Service ${ref.service}, asked over ext_proc at ${ref.address.target}; failureMode ${failureModeOf(pool)}` };
  if (ref?.picker === 'missing') return { by: 'missing', detail: ref.reason };
  return { by: 'infergate', detail: ref?.reason ?? 'infergate picks its endpoints' };
}
