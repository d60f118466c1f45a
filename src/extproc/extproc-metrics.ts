/** The ext_proc servers' own Prometheus metrics: requests by processor and outcome, active streams, pick latency. */
import type { ErrorCode } from '../errors.js';
import type { Collectable } from '../observability/metrics/family.js';
import { HistogramFamily, type HistogramSeries } from '../observability/metrics/histogram-family.js';
import { CounterFamily, GaugeFamily, type ValueSeries } from '../observability/metrics/value-family.js';

export type ProcessorName = 'bbr' | 'epp';

/** `ok`, the error code answered as an immediate_response, a stream that ended before a decision, or a broken one. */
export type Outcome = 'ok' | ErrorCode | 'cancelled' | 'protocol_error';

/** Upper bounds in seconds: picks take tens to hundreds of microseconds, so the buckets start at 50 µs. */
const PICK_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1] as const;

export class ExtprocMetrics {
  readonly requestsTotal = new CounterFamily({
    name: 'infergate_extproc_requests_total',
    help: 'ext_proc requests by processor and outcome (ok, the error code answered as an immediate_response, cancelled, protocol_error).',
    labelNames: ['processor', 'outcome'],
  });
  readonly streamsActive = new GaugeFamily({ name: 'infergate_extproc_streams_active', help: 'ext_proc gRPC streams open now.', labelNames: ['processor'] });
  readonly pickDuration = new HistogramFamily({ name: 'infergate_extproc_pick_duration_seconds', help: 'Time the endpoint picker spent on a request: route, pool and pick.', buckets: PICK_BUCKETS });
  /** Outcomes are the catalogue's codes and a few words: bounded. */
  readonly #requests: Record<ProcessorName, Map<Outcome, ValueSeries>> = { bbr: new Map(), epp: new Map() };
  readonly #active: Record<ProcessorName, ValueSeries>;
  readonly #pick: HistogramSeries;

  constructor() {
    // Both processors' gauges exist from the start, at 0, as the hand-written exposition had them.
    this.#active = { bbr: this.streamsActive.series('bbr'), epp: this.streamsActive.series('epp') };
    this.#pick = this.pickDuration.series();
  }

  countRequest(processor: ProcessorName, outcome: Outcome): void {
    let s = this.#requests[processor].get(outcome);
    if (!s) this.#requests[processor].set(outcome, (s = this.requestsTotal.series(processor, outcome)));
    s.inc();
  }

  requests(processor: ProcessorName, outcome: Outcome): number {
    return this.#requests[processor].get(outcome)?.value ?? 0;
  }

  streamOpened(processor: ProcessorName): void {
    this.#active[processor].inc();
  }

  streamClosed(processor: ProcessorName): void {
    this.#active[processor].dec();
  }

  activeStreams(processor: ProcessorName): number {
    return this.#active[processor].value;
  }

  observePick(seconds: number): void {
    this.#pick.observe(seconds);
  }

  /** For the admin server's registry. */
  families(): Collectable[] {
    return [this.requestsTotal, this.streamsActive, this.pickDuration];
  }
}
