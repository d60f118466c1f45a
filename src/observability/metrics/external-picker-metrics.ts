/**
 * infergate's own series for pools served by an external endpoint picker (src/proxy/external-pick-stage.ts): its
 * decisions by outcome, how long they took, and what became of its answers to the response headers.
 */
import type { Registry } from 'prom-client';
import type { ExternalPickRecord } from '../request-record.js';
import { register } from './family.js';
import { HistogramFamily, type HistogramSeries } from './histogram-family.js';
import { CounterFamily, type ValueSeries } from './value-family.js';

/** Upper bounds in seconds: a picker on the same network decides in milliseconds; its message timeout is 10 s by default. */
const DECISION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export class ExternalPickerMetrics {
  readonly decisions = new CounterFamily({
    name: 'infergate_external_picker_decisions_total',
    help: "Requests to a pool whose endpointPickerRef names an external endpoint picker, by the picker's decision: picked (endpoints), immediate (its own response), unavailable (none in time; the pool's failureMode applied).",
    labelNames: ['pool', 'outcome'],
  });
  readonly decisionDuration = new HistogramFamily({
    name: 'infergate_external_picker_decision_duration_seconds',
    help: 'From asking the external endpoint picker to its decision or failure.',
    labelNames: ['pool'],
    buckets: DECISION_BUCKETS,
  });
  readonly responseAnswers = new CounterFamily({
    name: 'infergate_external_picker_response_answers_total',
    help: "The external endpoint picker's answers to the endpoint's response headers: applied (its changes, possibly none), replaced (its immediate response instead), unanswered (none in time or its stream failed: the answer went on unchanged), skipped (not asked).",
    labelNames: ['pool', 'outcome'],
  });
  /** Pool keys come from the configuration, outcomes from a fixed set: bounded. */
  readonly #series = new Map<string, { decisions: Map<string, ValueSeries>; duration: HistogramSeries; answers: Map<string, ValueSeries> }>();

  /** One request to `pool` that asked its external picker. */
  record(pool: string, p: ExternalPickRecord): void {
    let s = this.#series.get(pool);
    if (!s) this.#series.set(pool, (s = { decisions: new Map(), duration: this.decisionDuration.series(pool), answers: new Map() }));
    counter(s.decisions, this.decisions, pool, p.outcome).inc();
    s.duration.observe(p.seconds);
    if (p.response !== undefined) counter(s.answers, this.responseAnswers, pool, p.response).inc();
  }

  register(registry: Registry): void {
    register(registry, this.decisions);
    register(registry, this.decisionDuration);
    register(registry, this.responseAnswers);
  }
}

function counter(cache: Map<string, ValueSeries>, family: CounterFamily, pool: string, outcome: string): ValueSeries {
  let s = cache.get(outcome);
  if (!s) cache.set(outcome, (s = family.series(pool, outcome)));
  return s;
}
