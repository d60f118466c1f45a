/**
 * llm-d's flow-control series (`llm_d_epp_flow_control_*`, ANCHORS §2b) and GIE's deprecated twins
 * (`inference_extension_flow_control_*`): queue time and outcomes as they happen, queue sizes, saturation
 * and capacity use read from the controllers at scrape time. fairness_id and model names are capped.
 */
import type { Registry } from 'prom-client';
import type { BoundedLabel } from '../observability/metrics/bounded-label.js';
import { CollectedFamily, type Emit } from '../observability/metrics/collected-family.js';
import { DerivedHistogramFamily } from '../observability/metrics/derived-family.js';
import { alpha, register, type Collectable } from '../observability/metrics/family.js';
import { HistogramFamily } from '../observability/metrics/histogram-family.js';
import { CounterFamily } from '../observability/metrics/value-family.js';
import * as B from '../observability/metrics/buckets.js';
import type { FlowControl } from './flow-control.js';
import type { FlowControlEvents } from './flow-controller.js';
import type { GateReading } from './saturation-gate.js';
import type { Ticket } from './flow-controller.js';

const FC = 'llm_d_epp_flow_control_';
const GIE_FC = 'inference_extension_flow_control_';
/** Queue time: a request dispatched at once is 0; waits run up to the TTL (60 s by default). */
const QUEUE_SECONDS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] as const;
const QUEUE_LABELS = ['fairness_id', 'priority', 'inference_pool', 'model_name', 'target_model_name'];
const deprecated = (use: string, help: string): string => alpha(`[Deprecated: Use ${FC}${use}] ${help}`);

export class FlowControlMetrics implements FlowControlEvents {
  readonly queueDuration = new HistogramFamily({
    name: `${FC}request_queue_duration_seconds`,
    help: alpha('Time requests spent in the flow-control queue, by outcome (Dispatched, RejectedCapacity, EvictedTTL, ...).'),
    labelNames: ['fairness_id', 'priority', 'outcome', 'inference_pool', 'model_name', 'target_model_name'],
    buckets: QUEUE_SECONDS,
  });
  readonly gieQueueDuration = new DerivedHistogramFamily(this.queueDuration, {
    name: `${GIE_FC}request_queue_duration_seconds`,
    help: deprecated('request_queue_duration_seconds', 'Time requests spent in the flow-control queue, by outcome.'),
  });
  readonly requests = new CounterFamily({ name: `${FC}requests_total`, help: alpha('Requests flow control decided on, by outcome.'), labelNames: ['outcome', 'priority', 'inference_pool'] });
  readonly dispatchCycle = new HistogramFamily({ name: `${FC}dispatch_cycle_duration_seconds`, help: alpha('Time one flow-control dispatch cycle took.'), buckets: B.SCHEDULER });
  readonly #fairness: BoundedLabel;
  readonly #models: BoundedLabel;
  #source: FlowControl | undefined;

  constructor(fairness: BoundedLabel, models: BoundedLabel) {
    this.#fairness = fairness;
    this.#models = models;
  }

  /** Reads these controllers at scrape time and takes their events. */
  attach(fc: FlowControl): void {
    this.#source = fc;
    fc.events = this;
  }

  left(pool: string, r: { fairnessId: string; priority: number; model?: string | undefined; target?: string | undefined }, outcome: string, waitedMs: number): void {
    const priority = String(r.priority);
    this.queueDuration.series(this.#fairness.bound(r.fairnessId), priority, outcome, pool, this.#models.bound(r.model ?? ''), this.#models.bound(r.target ?? '')).observe(waitedMs / 1000);
    this.requests.series(outcome, priority, pool).inc();
  }

  cycle(_pool: string, seconds: number, _reading: GateReading): void {
    this.dispatchCycle.series().observe(seconds);
  }

  register(registry: Registry): void {
    for (const f of this.families()) register(registry, f);
  }

  families(): Collectable[] {
    const queues = (bytes: boolean) => (emit: Emit) => this.#eachQueue((labels, n, b) => emit(bytes ? b : n, ...labels));
    const saturation = (withStage: boolean) => (emit: Emit) => {
      for (const c of this.#controllers()) {
        if (withStage) emit(c.lastReading.level, c.pool, 'effective');
        else emit(c.lastReading.level, c.pool);
      }
    };
    return [
      this.queueDuration,
      this.gieQueueDuration,
      this.requests,
      this.dispatchCycle,
      new CollectedFamily({ name: `${FC}queue_size`, help: alpha('Requests waiting in flow-control queues.'), type: 'gauge', labelNames: QUEUE_LABELS, collect: queues(false) }),
      new CollectedFamily({ name: `${GIE_FC}queue_size`, help: deprecated('queue_size', 'Requests waiting in flow-control queues.'), type: 'gauge', labelNames: QUEUE_LABELS, collect: queues(false) }),
      new CollectedFamily({ name: `${FC}queue_bytes`, help: alpha('Body bytes waiting in flow-control queues.'), type: 'gauge', labelNames: QUEUE_LABELS, collect: queues(true) }),
      new CollectedFamily({ name: `${GIE_FC}queue_bytes`, help: deprecated('queue_bytes', 'Body bytes waiting in flow-control queues.'), type: 'gauge', labelNames: QUEUE_LABELS, collect: queues(true) }),
      new CollectedFamily({
        name: `${FC}pool_saturation`,
        help: alpha("The pool's saturation as its detector last read it; 1.0 is the gating set point and values above 1 are allowed."),
        type: 'gauge',
        labelNames: ['inference_pool', 'stage'],
        collect: saturation(true),
      }),
      new CollectedFamily({ name: `${GIE_FC}pool_saturation`, help: deprecated('pool_saturation', "The pool's saturation as its detector last read it."), type: 'gauge', labelNames: ['inference_pool'], collect: saturation(false) }),
      new CollectedFamily({
        name: `${FC}stale_endpoints`,
        help: alpha('Endpoints whose metrics were missing or stale at the last saturation reading. When every endpoint of a pool is stale infergate does not gate it (docs/flow-control.md).'),
        type: 'gauge',
        labelNames: ['detector'],
        collect: (emit) => {
          const by = new Map<string, number>();
          for (const c of this.#controllers()) {
            const name = c.config.detector.detector.name;
            by.set(name, (by.get(name) ?? 0) + c.lastReading.stale);
          }
          for (const [name, n] of by) emit(n, name);
        },
      }),
      new CollectedFamily({
        name: `${FC}capacity_utilization_requests`,
        help: alpha("Requests waiting in a priority band over the band's maxRequests."),
        type: 'gauge',
        labelNames: ['priority', 'inference_pool'],
        collect: (emit) => {
          for (const c of this.#controllers()) for (const b of c.bands()) emit(b.length / b.limits.maxRequests, String(b.priority), c.pool);
        },
      }),
      new CollectedFamily({
        name: `${FC}capacity_utilization_bytes`,
        help: alpha("Body bytes waiting in a priority band over the band's maxBytes."),
        type: 'gauge',
        labelNames: ['priority', 'inference_pool'],
        collect: (emit) => {
          for (const c of this.#controllers()) for (const b of c.bands()) emit(b.bytes / b.limits.maxBytes, String(b.priority), c.pool);
        },
      }),
      new CollectedFamily({
        name: `${FC}global_capacity_utilization_requests`,
        help: alpha('Requests waiting in every band over the global maxRequests; only when one is set.'),
        type: 'gauge',
        labelNames: ['inference_pool'],
        collect: (emit) => {
          for (const c of this.#controllers()) if (Number.isFinite(c.config.maxRequests)) emit(c.length / c.config.maxRequests, c.pool);
        },
      }),
      new CollectedFamily({
        name: `${FC}global_capacity_utilization_bytes`,
        help: alpha('Body bytes waiting in every band over the global maxBytes; only when one is set.'),
        type: 'gauge',
        labelNames: ['inference_pool'],
        collect: (emit) => {
          for (const c of this.#controllers()) if (Number.isFinite(c.config.maxBytes)) emit(c.bytes / c.config.maxBytes, c.pool);
        },
      }),
    ];
  }

  *#controllers() {
    if (this.#source) yield* this.#source.controllers();
  }

  /** Each (fairness_id, priority, pool, model, target) with requests waiting: its count and bytes. */
  #eachQueue(fn: (labels: string[], n: number, bytes: number) => void): void {
    const sums = new Map<string, { labels: string[]; n: number; bytes: number }>();
    for (const c of this.#controllers()) {
      for (const band of c.bands()) {
        for (const flow of band.flows()) {
          for (const r of flow.queued()) {
            const t = r as Ticket;
            const labels = [this.#fairness.bound(t.fairnessId), String(t.priority), c.pool, this.#models.bound(t.model ?? ''), this.#models.bound(t.target ?? '')];
            const key = labels.join('\u0000');
            const s = sums.get(key);
            if (s) {
              s.n++;
              s.bytes += t.bytes;
            } else sums.set(key, { labels, n: 1, bytes: t.bytes });
          }
        }
      }
    }
    for (const s of sums.values()) fn(s.labels, s.n, s.bytes);
  }
}
