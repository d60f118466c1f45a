/**
 * Turns request records into the per-request series, counting as llm-d does: a request is counted in
 * `*_request_total` once it is scheduled (an endpoint picked); one refused before that counts only in
 * `*_request_error_total` with its error code. O(1) per call: a few map lookups and field updates.
 */
import type { RequestObserver, RequestRecord } from '../request-record.js';
import type { AttemptMetrics } from './attempt-metrics.js';
import type { BbrMetrics } from './bbr-metrics.js';
import type { ExternalPickerMetrics } from './external-picker-metrics.js';
import { llmDErrorCode, type LlmDErrorCode } from './error-codes.js';
import type { HistogramSeries } from './histogram-family.js';
import type { RequestFamilies } from './request-families.js';
import type { RequestSeries, RequestSeriesCache } from './request-series.js';
import type { ValueSeries } from './value-family.js';

export interface MetricsObserverParts {
  families: RequestFamilies;
  series: RequestSeriesCache;
  attempts: AttemptMetrics;
  /** Pools served by an external endpoint picker: its decisions and answers, from each record's `externalPick`. */
  externalPickers?: ExternalPickerMetrics;
  /** Counts what body-based routing made of each record's body; unset where BBR counts itself (`extproc`'s BBR server). */
  bbr?: BbrMetrics;
}

/**
 * The error a record counts as: the gateway's own code mapped to llm-d's, else `ModelServerError` when the
 * model server answered with a status other than 2xx (llm-d: any status but 200), else none. A client that
 * went away is no error (llm-d counts a cancelled stream as none either).
 */
export function errorCodeOf(r: RequestRecord): LlmDErrorCode | undefined {
  if (r.errorCode !== undefined) {
    // An answer the pod began (its 2xx status already sent) and then broke off: the pod failed, as with upstream_timeout.
    if (r.errorCode === 'upstream_unavailable' && r.status !== undefined && r.status >= 200 && r.status < 300) return 'ModelServerError';
    return llmDErrorCode(r.errorCode);
  }
  if (r.status !== undefined && (r.status < 200 || r.status >= 300)) return 'ModelServerError';
  return undefined;
}

export class MetricsObserver implements RequestObserver {
  readonly #p: MetricsObserverParts;
  readonly #processing: HistogramSeries;
  readonly #responseProc: HistogramSeries;
  /** Rewrite decisions by rewrite name, model and target: all three are bounded (configuration, capped models). */
  readonly #rewrites = new Map<string, Map<string, Map<string, ValueSeries>>>();

  constructor(parts: MetricsObserverParts) {
    this.#p = parts;
    this.#processing = parts.families.processing.series();
    this.#responseProc = parts.families.responseProcessing.series();
  }

  scheduled(r: RequestRecord): void {
    const s = this.#p.series.of(r.model, r.targetModel, r.fairnessId, r.priority);
    r.metricsSeries = s;
    s.requests.inc();
    s.running.inc();
    // The body is known once the request is scheduled: llm-d records its size beside request_total, answered or not.
    s.requestSize.observe(r.requestBytes);
    if (r.scheduledAt !== undefined) this.#processing.observe((r.scheduledAt - r.startedAt) / 1000);
  }

  interTokenGap(r: RequestRecord, seconds: number): void {
    if (seconds >= 0) ((r.metricsSeries as RequestSeries | undefined) ?? this.#p.series.of(r.model, r.targetModel, r.fairnessId, r.priority)).itl.observe(seconds);
  }

  ended(r: RequestRecord): void {
    const p = this.#p;
    if (p.bbr) {
      if (r.modelField !== undefined) p.bbr.modelField(r.modelField);
      else if (r.model !== undefined) p.bbr.succeeded();
    }
    if (r.rewriteName !== undefined && r.model !== undefined) this.#rewrite(r.rewriteName, r.model, r.targetModel ?? r.model);
    // The series `scheduled` counted on: running goes down where it went up, whatever the record says now.
    // A request never scheduled was refused, perhaps for a made-up model: its names take only the refused share of the caps.
    const s = (r.metricsSeries as RequestSeries | undefined) ?? p.series.of(r.model, r.targetModel, r.fairnessId, r.priority, true);
    const code = errorCodeOf(r);
    if (code !== undefined) s.error(code).inc();
    // Before the scheduled check: a picker's own response or failure leaves the request unscheduled.
    if (r.externalPick !== undefined && r.pool !== undefined) p.externalPickers?.record(r.pool, r.externalPick);
    const scheduled = r.scheduledAt !== undefined;
    if (!scheduled) {
      // Refused in the request phase (its body, no route, shed, no endpoint): the gateway's time up to its answer,
      // as llm-d records request-phase failures too (the slowest, a flow-control rejection, would bias it low).
      if (r.errorCode !== undefined && r.endedAt !== undefined && r.clientGone !== true) this.#processing.observe((r.endedAt - r.startedAt) / 1000);
      return;
    }
    s.running.dec();
    this.#responseProcessing(r);
    if (r.pool !== undefined) {
      p.attempts.record(r.pool, r.attempts);
      p.attempts.answered(r.pool, r.attemptLog);
    }
    // Latency and sizes describe answers: none when the connection broke before a status went out, or the
    // client left before the end (llm-d records them at the end of the stream only).
    if (r.status === undefined || r.clientGone === true || r.endedAt === undefined) return;
    const e2e = (r.endedAt - r.startedAt) / 1000;
    s.duration.observe(e2e);
    if (r.responseUnread !== true) s.responseSize.observe(r.responseBytes);
    const u = r.usage;
    if (u) {
      if (u.promptTokens > 0) s.inputTokens.observe(u.promptTokens);
      if (u.completionTokens > 0) {
        s.outputTokens.observe(u.completionTokens);
        s.ntpot.observe(e2e / u.completionTokens);
      }
      if (u.cachedTokens !== undefined) s.cachedTokens.observe(u.cachedTokens);
    }
    if (code !== undefined) return;
    // TTFT: a stream's first token event; a whole answer's first byte is its end, as llm-d's help says.
    const first = r.stream ? r.firstTokenAt : r.endedAt;
    if (first === undefined || first < r.startedAt) return;
    observe(s.ttft(r.stream), (first - r.startedAt) / 1000);
    // TPOT: (e2e - TTFT) / (output tokens - 1), streams only, with the usage the server reported.
    if (r.stream && u && u.completionTokens > 1 && r.endedAt > first) observe(s.tpot, (r.endedAt - first) / 1000 / (u.completionTokens - 1));
  }

  /** The picker's own time on the response, once the stream ends, aborted or not (llm-d records both). */
  #responseProcessing(r: RequestRecord): void {
    if (r.responseProcessingMs !== undefined && r.responseProcessingMs > 0) this.#responseProc.observe(r.responseProcessingMs / 1000);
  }

  #rewrite(name: string, model: string, target: string): void {
    const m = this.#p.series.boundModel(model);
    const t = this.#p.series.boundModel(target);
    let byModel = this.#rewrites.get(name);
    if (!byModel) this.#rewrites.set(name, (byModel = new Map()));
    let byTarget = byModel.get(m);
    if (!byTarget) byModel.set(m, (byTarget = new Map()));
    let s = byTarget.get(t);
    if (!s) byTarget.set(t, (s = this.#p.families.rewrites.series(name, m, t)));
    s.inc();
  }
}

/** Observes `v` on llm-d's series and GIE's (TTFT, TPOT: GIE's buckets differ). */
function observe(pair: readonly [HistogramSeries, HistogramSeries], v: number): void {
  pair[0].observe(v);
  pair[1].observe(v);
}
