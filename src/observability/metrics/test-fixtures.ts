/**
 * Fixture builders for metrics tests: a request record at a given moment (`record({ model: 'llama', stream: true })`),
 * and lookups of one sample in an exposition (`sample(text, 'llm_d_epp_request_total', { model_name: 'llama' })`).
 */
import { parsePrometheusText } from '../../epp/metrics/prometheus-parser.js';
import type { RequestRecord } from '../request-record.js';

/** A record started at t=1000 ms (monotonic), priority 0, nothing else filled: the stages' fields go in `r`. */
export function record(r: Partial<RequestRecord> = {}): RequestRecord {
  return { requestId: 'req-1', startTime: 0, startedAt: 1000, method: 'POST', path: '/v1/chat/completions', priority: 0, attempts: 0, stream: false, requestBytes: 0, responseBytes: 0, tokenEvents: 0, attemptLog: [], ...r };
}

/**
 * The value of the one sample `name` whose labels include `labels`; undefined when none has them. Throws when
 * several do (the test meant one series).
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = (parsePrometheusText(text).samples.get(name) ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}: ${found.map((s) => JSON.stringify(s.labels)).join(' ')}`);
  return found[0]?.value;
}

/** How many samples `name` has (series, for counters and gauges). */
export function seriesCount(text: string, name: string): number {
  return parsePrometheusText(text).samples.get(name)?.length ?? 0;
}
