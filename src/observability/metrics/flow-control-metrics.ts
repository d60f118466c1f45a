/**
 * llm-d's flow-control series (`llm_d_epp_flow_control_*`, ANCHORS §2b) and GIE's deprecated twins
 * (`inference_extension_flow_control_*`): queue time and outcomes as they happen, queue sizes, saturation
 * and capacity use read from the controllers at scrape time. fairness_id and model names are capped.
 */
import type { Registry } from 'prom-client';
import type { BoundedLabel } from './bounded-label.js';
import { CollectedFamily, type Emit } from './collected-family.js';
import { DerivedHistogramFamily } from './derived-family.js';
import { alpha, register, type Collectable } from './family.js';
import { HistogramFamily } from './histogram-family.js';
import { CounterFamily } from './value-family.js';
import * as B from './buckets.js';
import { poolNameLabels } from './pool-collector.js';
import type { FlowControl } from '../../flowcontrol/flow-control.js';
import type { FlowControlEvents, FlowController, Ticket } from '../../flowcontrol/flow-controller.js';
import type { GateReading } from '../../flowcontrol/saturation-gate.js';

const FC = 'llm_d_epp_flow_control_';
const GIE_FC = 'inference_extension_flow_control_';
/** Queue time, llm-d's buckets: a request dispatched at once is 0; waits run up to the TTL (60 s by default). */
const QUEUE_SECONDS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;
const QUEUE_LABELS = ['fairness_id', 'priority', 'inference_pool', 'model_name', 'target_model_name'];
const deprecated = (use: string, help: string): string => alpha(`[Deprecated: Use ${FC}${use}] ${help}`);
const QUEUE_DURATION_HELP = 'Distribution of total time requests spend in the Flow Control layer (from enqueue to final outcome).';
const DISPATCH_CYCLE_HELP = 'Distribution of time taken for each internal dispatch cycle in the Flow Control layer.';
const ENQUEUE_HELP = 'Distribution of time taken to enqueue requests into the Flow Control layer.';
const QUEUE_SIZE_HELP = 'Current number of requests actively held in the Flow Control queue.';
const QUEUE_BYTES_HELP = 'Current total size in bytes of requests actively held in the Flow Control queue.';

export class FlowControlMetrics implements FlowControlEvents {
  // Help texts are llm-d's (pkg/epp/metrics), so its dashboards' descriptions read the same.
  readonly queueDuration = new HistogramFamily({
    name: `${FC}request_queue_duration_seconds`,
    help: alpha(QUEUE_DURATION_HELP),
    labelNames: ['fairness_id', 'priority', 'outcome', 'inference_pool', 'model_name', 'target_model_name'],
    buckets: QUEUE_SECONDS,
  });
  readonly gieQueueDuration = new DerivedHistogramFamily(this.queueDuration, {
    name: `${GIE_FC}request_queue_duration_seconds`,
    help: deprecated('request_queue_duration_seconds', QUEUE_DURATION_HELP),
  });
  readonly requests = new CounterFamily({ name: `${FC}requests_total`, help: alpha('Total number of requests processed by the Flow Control layer.'), labelNames: ['outcome', 'priority', 'inference_pool'] });
  readonly dispatchCycle = new HistogramFamily({ name: `${FC}dispatch_cycle_duration_seconds`, help: alpha(DISPATCH_CYCLE_HELP), buckets: B.SCHEDULER });
  readonly gieDispatchCycle = new DerivedHistogramFamily(this.dispatchCycle, { name: `${GIE_FC}dispatch_cycle_duration_seconds`, help: deprecated('dispatch_cycle_duration_seconds', DISPATCH_CYCLE_HELP) });
  readonly enqueueDuration = new HistogramFamily({ name: `${FC}request_enqueue_duration_seconds`, help: alpha(ENQUEUE_HELP), labelNames: ['fairness_id', 'priority', 'outcome'], buckets: B.SCHEDULER });
  readonly gieEnqueueDuration = new DerivedHistogramFamily(this.enqueueDuration, { name: `${GIE_FC}request_enqueue_duration_seconds`, help: deprecated('request_enqueue_duration_seconds', ENQUEUE_HELP) });
  readonly #fairness: BoundedLabel;
  readonly #models: BoundedLabel;
  #source: FlowControl | undefined;
  /**
   * Pool key -> its `inference_pool` label: the pool's name, as llm-d's EPP (one pool, its --pool-name) reports it,
   * `namespace/name` when two namespaces share the name; the pool series' `name` follows the same rule.
   */
  #poolLabels = new Map<string, string>();
  /** Queue series seen, by pool key and labels: they read 0 once empty, while their controller lasts. */
  readonly #seenQueues = new Map<string, { controller: FlowController; parts: string[] }>();

  constructor(fairness: BoundedLabel, models: BoundedLabel) {
    this.#fairness = fairness;
    this.#models = models;
  }

  /** The pools in force (their keys), whenever the configuration changes. */
  setPools(keys: Iterable<string>): void {
    this.#poolLabels = poolNameLabels(keys);
  }

  #pool(key: string): string {
    return this.#poolLabels.get(key) ?? key;
  }

  /** Reads these controllers at scrape time and takes their events. */
  attach(fc: FlowControl): void {
    this.#source = fc;
    fc.events = this;
  }

  left(pool: string, r: { fairnessId: string; priority: number; model?: string | undefined; target?: string | undefined }, outcome: string, waitedMs: number): void {
    const priority = String(r.priority);
    const label = this.#pool(pool);
    this.queueDuration.series(this.#fairness.bound(r.fairnessId), priority, outcome, label, this.#models.bound(r.model ?? ''), this.#models.bound(r.target ?? '')).observe(waitedMs / 1000);
    this.requests.series(outcome, priority, label).inc();
  }

  cycle(_pool: string, seconds: number, _reading: GateReading): void {
    this.dispatchCycle.series().observe(seconds);
  }

  enqueued(r: { fairnessId: string; priority: number }, outcome: string, seconds: number): void {
    this.enqueueDuration.series(this.#fairness.bound(r.fairnessId), String(r.priority), outcome).observe(seconds);
  }

  register(registry: Registry): void {
    for (const f of this.families()) register(registry, f);
  }

  families(): Collectable[] {
    const queues = (bytes: boolean) => (emit: Emit) => this.#eachQueue((labels, n, b) => emit(bytes ? b : n, ...labels));
    const saturation = (withStage: boolean) => (emit: Emit) => {
      for (const c of this.#controllers()) {
        const level = c.reading().level;
        if (withStage) emit(level, this.#pool(c.pool), 'effective');
        else emit(level, this.#pool(c.pool));
      }
    };
    return [
      this.queueDuration,
      this.gieQueueDuration,
      this.requests,
      this.dispatchCycle,
      this.gieDispatchCycle,
      this.enqueueDuration,
      this.gieEnqueueDuration,
      new CollectedFamily({ name: `${FC}queue_size`, help: alpha(QUEUE_SIZE_HELP), type: 'gauge', labelNames: QUEUE_LABELS, collect: queues(false) }),
      new CollectedFamily({ name: `${GIE_FC}queue_size`, help: deprecated('queue_size', QUEUE_SIZE_HELP), type: 'gauge', labelNames: QUEUE_LABELS, collect: queues(false) }),
      new CollectedFamily({ name: `${FC}queue_bytes`, help: alpha(QUEUE_BYTES_HELP), type: 'gauge', labelNames: QUEUE_LABELS, collect: queues(true) }),
      new CollectedFamily({ name: `${GIE_FC}queue_bytes`, help: deprecated('queue_bytes', QUEUE_BYTES_HELP), type: 'gauge', labelNames: QUEUE_LABELS, collect: queues(true) }),
      new CollectedFamily({
        name: `${FC}pool_saturation`,
        help: alpha("Pool saturation signal gating Flow Control dispatch. infergate reports the stage 'effective' only (the value used for gating). 1.0 is the gating set point; values above 1.0 indicate the magnitude of oversubscription past it."),
        type: 'gauge',
        labelNames: ['inference_pool', 'stage'],
        collect: saturation(true),
      }),
      new CollectedFamily({ name: `${GIE_FC}pool_saturation`, help: deprecated('pool_saturation', 'Pool saturation signal gating Flow Control dispatch; 1.0 is the gating set point.'), type: 'gauge', labelNames: ['inference_pool'], collect: saturation(false) }),
      new CollectedFamily({
        name: `${FC}stale_endpoints`,
        help: alpha('Number of candidate endpoints whose metrics are missing or older than the staleness threshold, as of the most recent saturation evaluation. When every endpoint of a pool is stale infergate does not gate it (docs/flow-control.md).'),
        type: 'gauge',
        labelNames: ['detector'],
        collect: (emit) => {
          const by = new Map<string, number>();
          for (const c of this.#controllers()) {
            const name = c.config.detector.detector.name;
            by.set(name, (by.get(name) ?? 0) + c.reading().stale);
          }
          for (const [name, n] of by) emit(n, name);
        },
      }),
      new CollectedFamily({
        name: `${FC}capacity_utilization_requests`,
        help: alpha("Fraction of a priority band's effective request-count capacity currently occupied, aggregated over every flow in the band (0.0-1.0)."),
        type: 'gauge',
        labelNames: ['priority', 'inference_pool'],
        collect: (emit) => {
          for (const c of this.#controllers()) for (const b of c.bands()) emit(b.length / b.limits.maxRequests, String(b.priority), this.#pool(c.pool));
        },
      }),
      new CollectedFamily({
        name: `${FC}capacity_utilization_bytes`,
        help: alpha("Fraction of a priority band's effective byte-size capacity currently occupied, aggregated over every flow in the band (0.0-1.0)."),
        type: 'gauge',
        labelNames: ['priority', 'inference_pool'],
        collect: (emit) => {
          for (const c of this.#controllers()) for (const b of c.bands()) emit(b.bytes / b.limits.maxBytes, String(b.priority), this.#pool(c.pool));
        },
      }),
      new CollectedFamily({
        name: `${FC}global_capacity_utilization_requests`,
        help: alpha('Fraction of the global request-count capacity currently occupied across all priority bands (0.0-1.0); emitted only when it is configured.'),
        type: 'gauge',
        labelNames: ['inference_pool'],
        collect: (emit) => {
          for (const c of this.#controllers()) if (Number.isFinite(c.config.maxRequests)) emit(c.length / c.config.maxRequests, this.#pool(c.pool));
        },
      }),
      new CollectedFamily({
        name: `${FC}global_capacity_utilization_bytes`,
        help: alpha('Fraction of the global byte-size capacity currently occupied across all priority bands (0.0-1.0); emitted only when it is configured.'),
        type: 'gauge',
        labelNames: ['inference_pool'],
        collect: (emit) => {
          for (const c of this.#controllers()) if (Number.isFinite(c.config.maxBytes)) emit(c.bytes / c.config.maxBytes, this.#pool(c.pool));
        },
      }),
    ];
  }

  *#controllers() {
    if (this.#source) yield* this.#source.controllers();
  }

  /**
   * Each (fairness_id, priority, pool, model, target) that has had requests waiting: its count and bytes now, 0
   * once its queue emptied. llm-d's gauges go up and down, so a series once seen reads 0 rather than vanishing
   * (a dashboard's sum then shows an empty queue, not "no data"); the series of a pool whose controller went
   * (flow control turned off, the pool removed) go with it. Their number is bounded by the labels' caps.
   */
  #eachQueue(fn: (labels: string[], n: number, bytes: number) => void): void {
    const sums = new Map<string, { labels: string[]; n: number; bytes: number }>();
    const live = new Set<FlowController>();
    for (const c of this.#controllers()) {
      live.add(c);
      for (const band of c.bands()) {
        for (const flow of band.flows()) {
          for (const r of flow.queued()) {
            const t = r as Ticket;
            const parts = [this.#fairness.bound(t.fairnessId), String(t.priority), this.#models.bound(t.model ?? ''), this.#models.bound(t.target ?? '')];
            const key = `${c.pool}\u0000${parts.join('\u0000')}`;
            const s = sums.get(key);
            if (s) {
              s.n++;
              s.bytes += t.bytes;
            } else {
              sums.set(key, { labels: queueLabels(parts, this.#pool(c.pool)), n: 1, bytes: t.bytes });
              if (!this.#seenQueues.has(key)) this.#seenQueues.set(key, { controller: c, parts });
            }
          }
        }
      }
    }
    for (const [key, seen] of this.#seenQueues) {
      if (!live.has(seen.controller)) this.#seenQueues.delete(key);
      else if (!sums.has(key)) fn(queueLabels(seen.parts, this.#pool(seen.controller.pool)), 0, 0);
    }
    for (const s of sums.values()) fn(s.labels, s.n, s.bytes);
  }
}

/** fairness_id, priority, model and target (as kept) -> QUEUE_LABELS' order, with the pool's label. */
function queueLabels(parts: readonly string[], pool: string): string[] {
  const [fairness = '', priority = '', model = '', target = ''] = parts;
  return [fairness, priority, pool, model, target];
}
