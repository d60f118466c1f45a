/** The ext_proc servers' own Prometheus metrics: requests by processor and outcome, active streams, pick latency. */
import type { ErrorCode } from '../errors.js';

export type ProcessorName = 'bbr' | 'epp';

/** `ok`, the error code answered as an immediate_response, a stream that ended before a decision, or a broken one. */
export type Outcome = 'ok' | ErrorCode | 'cancelled' | 'protocol_error';

/** Upper bounds in seconds: picks take tens to hundreds of microseconds, so the buckets start at 50 µs. */
const PICK_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1] as const;

export class ExtprocMetrics {
  readonly #requests = new Map<string, number>();
  readonly #active: Record<ProcessorName, number> = { bbr: 0, epp: 0 };
  readonly #pickBuckets = new Array<number>(PICK_BUCKETS.length).fill(0);
  #pickSum = 0;
  #pickCount = 0;

  countRequest(processor: ProcessorName, outcome: Outcome): void {
    const key = `${processor}\t${outcome}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
  }

  requests(processor: ProcessorName, outcome: Outcome): number {
    return this.#requests.get(`${processor}\t${outcome}`) ?? 0;
  }

  streamOpened(processor: ProcessorName): void {
    this.#active[processor]++;
  }

  streamClosed(processor: ProcessorName): void {
    this.#active[processor]--;
  }

  activeStreams(processor: ProcessorName): number {
    return this.#active[processor];
  }

  observePick(seconds: number): void {
    this.#pickSum += seconds;
    this.#pickCount++;
    for (let i = 0; i < PICK_BUCKETS.length; i++) if (seconds <= PICK_BUCKETS[i]!) this.#pickBuckets[i]!++;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines = [
      '# HELP infergate_extproc_requests_total ext_proc requests by processor and outcome (ok, the error code answered as an immediate_response, cancelled, protocol_error).',
      '# TYPE infergate_extproc_requests_total counter',
    ];
    for (const [key, n] of [...this.#requests].sort(([a], [b]) => a.localeCompare(b))) {
      const [processor, outcome] = key.split('\t');
      lines.push(`infergate_extproc_requests_total{processor="${processor}",outcome="${outcome}"} ${n}`);
    }
    lines.push('# HELP infergate_extproc_streams_active ext_proc gRPC streams open now.', '# TYPE infergate_extproc_streams_active gauge');
    for (const p of ['bbr', 'epp'] as const) lines.push(`infergate_extproc_streams_active{processor="${p}"} ${this.#active[p]}`);
    lines.push('# HELP infergate_extproc_pick_duration_seconds Time the endpoint picker spent on a request: route, pool and pick.', '# TYPE infergate_extproc_pick_duration_seconds histogram');
    PICK_BUCKETS.forEach((le, i) => lines.push(`infergate_extproc_pick_duration_seconds_bucket{le="${le}"} ${this.#pickBuckets[i]}`));
    lines.push(`infergate_extproc_pick_duration_seconds_bucket{le="+Inf"} ${this.#pickCount}`);
    lines.push(`infergate_extproc_pick_duration_seconds_sum ${this.#pickSum}`, `infergate_extproc_pick_duration_seconds_count ${this.#pickCount}`);
    return lines.join('\n') + '\n';
  }
}
