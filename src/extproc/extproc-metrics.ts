/**
 * The ext_proc servers' own Prometheus metrics: requests by processor and outcome, active streams, pick latency;
 * and the endpoint picker's streams under llm-d's names (`llm_d_epp_extproc_*`, pkg/epp/metrics/grpc_stream_metrics.go).
 */
import { status } from '@grpc/grpc-js';
import type { ErrorCode } from '../errors.js';
import { alpha, type Collectable } from '../observability/metrics/family.js';
import { HistogramFamily, type HistogramSeries } from '../observability/metrics/histogram-family.js';
import { CounterFamily, GaugeFamily, type ValueSeries } from '../observability/metrics/value-family.js';

export type ProcessorName = 'bbr' | 'epp';

/** `ok`, the error code answered as an immediate_response, a stream that ended before a decision, or a broken one. */
export type Outcome = 'ok' | ErrorCode | 'cancelled' | 'protocol_error';

/** Upper bounds in seconds: picks take tens to hundreds of microseconds, so the buckets start at 50 µs. */
const PICK_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1] as const;
/** llm-d's stream duration buckets: a stream lasts as long as its request and response, up to minutes. */
const STREAM_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600] as const;

/** A gRPC status as Go's codes.Code.String() spells it, the `code` label llm-d's EPP reports. */
export function grpcCodeName(code: status): string {
  const name = status[code];
  if (name === undefined) return `Code(${code})`;
  // OK stays; CANCELLED is Go's Canceled; the rest are UPPER_SNAKE -> PascalCase.
  if (code === status.CANCELLED) return 'Canceled';
  if (code === status.OK) return 'OK';
  return name
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

export class ExtprocMetrics {
  readonly requestsTotal = new CounterFamily({
    name: 'infergate_extproc_requests_total',
    help: 'ext_proc requests by processor and outcome (ok, the error code answered as an immediate_response, cancelled, protocol_error).',
    labelNames: ['processor', 'outcome'],
  });
  readonly streamsActive = new GaugeFamily({ name: 'infergate_extproc_streams_active', help: 'ext_proc gRPC streams open now.', labelNames: ['processor'] });
  readonly pickDuration = new HistogramFamily({ name: 'infergate_extproc_pick_duration_seconds', help: 'Time the endpoint picker spent on a request: route, pool and pick.', buckets: PICK_BUCKETS });
  // llm-d's, for the endpoint picker's streams (opt-in there with --enable-grpc-stream-metrics; always here).
  readonly llmdStreamsInflight = new GaugeFamily({ name: 'llm_d_epp_extproc_streams_inflight', help: alpha('Number of ext_proc gRPC streams currently open.') });
  readonly llmdStreamDuration = new HistogramFamily({ name: 'llm_d_epp_extproc_stream_duration_seconds', help: alpha('Duration an ext_proc gRPC stream stays open, in seconds.'), buckets: STREAM_BUCKETS });
  readonly llmdStreamsTotal = new CounterFamily({ name: 'llm_d_epp_extproc_streams_total', help: alpha('Total ext_proc gRPC streams completed, by gRPC status code.'), labelNames: ['code'] });
  /** Outcomes are the catalogue's codes and a few words: bounded. */
  readonly #requests: Record<ProcessorName, Map<Outcome, ValueSeries>> = { bbr: new Map(), epp: new Map() };
  readonly #active: Record<ProcessorName, ValueSeries>;
  readonly #pick: HistogramSeries;
  readonly #llmdInflight: ValueSeries;
  readonly #llmdDuration: HistogramSeries;
  readonly #llmdByCode = new Map<status, ValueSeries>();

  constructor() {
    // Both processors' gauges exist from the start, at 0, as the hand-written exposition had them.
    this.#active = { bbr: this.streamsActive.series('bbr'), epp: this.streamsActive.series('epp') };
    this.#pick = this.pickDuration.series();
    this.#llmdInflight = this.llmdStreamsInflight.series();
    this.#llmdDuration = this.llmdStreamDuration.series();
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
    if (processor === 'epp') this.#llmdInflight.inc();
  }

  /** `code`: the status the stream ended with; `seconds`: how long it was open. */
  streamClosed(processor: ProcessorName, code: status, seconds: number): void {
    this.#active[processor].dec();
    if (processor !== 'epp') return;
    this.#llmdInflight.dec();
    this.#llmdDuration.observe(seconds);
    let s = this.#llmdByCode.get(code);
    if (!s) this.#llmdByCode.set(code, (s = this.llmdStreamsTotal.series(grpcCodeName(code))));
    s.inc();
  }

  activeStreams(processor: ProcessorName): number {
    return this.#active[processor].value;
  }

  observePick(seconds: number): void {
    this.#pick.observe(seconds);
  }

  /** For the admin server's registry. */
  families(): Collectable[] {
    return [this.requestsTotal, this.streamsActive, this.pickDuration, this.llmdStreamsInflight, this.llmdStreamDuration, this.llmdStreamsTotal];
  }
}
