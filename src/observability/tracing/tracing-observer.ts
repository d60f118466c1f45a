/**
 * Turns request records into OpenTelemetry spans: one SERVER span per request (GenAI conventions), child
 * spans for body-based routing, routing and scheduling, and one CLIENT span per upstream attempt, whose
 * `traceparent` the pod receives. Registered only when tracing is on.
 */
import { SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ATTR_HTTP_RESPONSE_STATUS_CODE } from '@opentelemetry/semantic-conventions';
import type { RequestObserver, RequestRecord, UpstreamAttempt } from '../request-record.js';
import { spanNameOf } from './genai-attributes.js';
import { attemptErrorType, attemptStartAttributes, requestAttributes } from './request-attributes.js';
import { scheduleSummary } from './schedule-summary.js';
import { clientContext, traceHeaders } from './trace-context.js';

/** The spans of a request still in flight: its server span and the attempts started so far. */
interface LiveRequest {
  root: Span;
  /** The context children start under: the server span's. */
  ctx: Context;
  attempts: [UpstreamAttempt, Span][];
}

/** One stage before the upstream: it ends at `end` (a record field), and starts where the last stage done ended. */
const STAGES = [
  { name: 'infergate.bbr', end: 'bbrDoneAt' },
  { name: 'infergate.routing', end: 'routedAt' },
  { name: 'infergate.scheduling', end: 'scheduledAt' },
] as const;

export class TracingObserver implements RequestObserver {
  /** The bbr and routing spans end at `bbrDoneAt` and `routedAt`. */
  readonly stageTimes = true;
  readonly #tracer: Tracer;
  // Keyed by the record itself: nothing to clean up if a record were dropped without `ended`.
  readonly #live = new WeakMap<RequestRecord, LiveRequest>();

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  /**
   * The scheduling span names each plugin's scores, so a sampled request's pick runs traced; an unsampled
   * one's does not. Starts the request's span (sampling is decided then); its name is settled at the end.
   */
  tracesScheduling(r: RequestRecord): boolean {
    return (this.#live.get(r) ?? this.#begin(r)).root.isRecording();
  }

  /**
   * Starts the request's span when its first attempt starts, unless tracesScheduling did (the model and pool are known by then), and
   * the attempt's span under it; the pod is told the attempt's span as its parent. Spans start with
   * explicit times on the record's clock, so nothing here depends on when the call is made.
   */
  attemptStarting(r: RequestRecord, attempt: UpstreamAttempt): Record<string, string> {
    const live = this.#live.get(r) ?? this.#begin(r);
    // Not sampled: no child spans, but the pod still learns the trace and that it is not sampled.
    if (!live.root.isRecording()) return traceHeaders(live.root.spanContext());
    const n = live.attempts.length + 1;
    const span = this.#tracer.startSpan(
      spanNameOf(r.method, r.path, r.targetModel ?? r.model),
      { kind: SpanKind.CLIENT, startTime: epochOf(r, attempt.startedAt), attributes: attemptStartAttributes(r, attempt, n) },
      live.ctx,
    );
    live.attempts.push([attempt, span]);
    return traceHeaders(span.spanContext());
  }

  ended(r: RequestRecord): void {
    const live = this.#live.get(r) ?? this.#begin(r);
    this.#live.delete(r);
    const { root } = live;
    if (!root.isRecording()) return;
    const end = epochOf(r, r.endedAt ?? performance.now());
    root.updateName(spanNameOf(r.method, r.path, r.model));
    const attrs = requestAttributes(r);
    root.setAttributes(attrs);
    this.#stages(r, live, end);
    for (const [attempt, span] of live.attempts) endAttempt(r, attempt, span, end, r.clientGone === true && attempt === r.attemptLog[r.attemptLog.length - 1]);
    if (isServerError(r, attrs)) root.setStatus({ code: SpanStatusCode.ERROR, message: String(attrs[ATTR_ERROR_TYPE]) });
    root.end(end);
  }

  #begin(r: RequestRecord): LiveRequest {
    const parent = clientContext(r.traceparent, r.tracestate);
    const root = this.#tracer.startSpan(spanNameOf(r.method, r.path, r.model), { kind: SpanKind.SERVER, startTime: r.startTime }, parent);
    const live: LiveRequest = { root, ctx: trace.setSpan(parent, root), attempts: [] };
    this.#live.set(r, live);
    // For the access log: a line names the trace to look up, sampled or not.
    r.traceId = root.spanContext().traceId;
    return live;
  }

  /**
   * A span per stage the request went through, from the previous stage's end to its own. A stage the
   * request failed in (its mark unset, no later mark set, an error answered) ends with the request, in error.
   */
  #stages(r: RequestRecord, live: LiveRequest, end: number): void {
    let from = r.startedAt;
    for (let i = 0; i < STAGES.length; i++) {
      const stage = STAGES[i]!;
      const done = r[stage.end];
      if (done === undefined) {
        if (laterStageDone(r, i)) continue;
        if (r.errorCode !== undefined) this.#stage(r, live, stage.name, from, undefined, end);
        return;
      }
      this.#stage(r, live, stage.name, from, done, end);
      from = done;
    }
  }

  #stage(r: RequestRecord, live: LiveRequest, name: (typeof STAGES)[number]['name'], from: number, done: number | undefined, requestEnd: number): void {
    const attributes: Attributes = name === 'infergate.scheduling' ? schedulingAttributes(r) : name === 'infergate.routing' ? routingAttributes(r) : bbrAttributes(r);
    const span = this.#tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: epochOf(r, from), attributes }, live.ctx);
    if (done === undefined) {
      span.setAttribute(ATTR_ERROR_TYPE, r.errorCode!);
      span.setStatus({ code: SpanStatusCode.ERROR, message: r.errorCode! });
    }
    span.end(done === undefined ? requestEnd : epochOf(r, done));
  }
}

function laterStageDone(r: RequestRecord, i: number): boolean {
  for (let j = i + 1; j < STAGES.length; j++) if (r[STAGES[j]!.end] !== undefined) return true;
  return false;
}

/** Record times are `performance.now()` ms; spans take epoch ms: the record's wall-clock start anchors them. */
function epochOf(r: RequestRecord, t: number): number {
  return r.startTime + (t - r.startedAt);
}

/**
 * Ends an attempt's span. `abandoned`: the gateway aborted it because the client went away (UND_ERR_ABORTED), which
 * is no failure of the pod's or the gateway's, as on the request span: flagged, not in error, so a trace of a user
 * who stopped a stream is not counted (or kept by error-based sampling) as a failed one.
 */
function endAttempt(r: RequestRecord, attempt: UpstreamAttempt, span: Span, requestEnd: number, abandoned: boolean): void {
  if (attempt.status !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, attempt.status);
  if (attempt.headersAt !== undefined) span.addEvent('response_headers', epochOf(r, attempt.headersAt));
  const err = attemptErrorType(attempt);
  if (abandoned) span.setAttribute('infergate.client_gone', true);
  else if (err !== undefined) {
    span.setAttribute(ATTR_ERROR_TYPE, err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err });
  }
  span.end(attempt.endedAt === undefined ? requestEnd : epochOf(r, attempt.endedAt));
}

/**
 * Whether the server span is in error: the request failed on the gateway's or the pod's side. A gateway
 * refusal with a 4xx (unknown model, body too large) keeps its `error.type` but is the client's to fix. An
 * answer cut short after its headers went out carries an error code under the 200 the client already got: in error.
 */
function isServerError(r: RequestRecord, attrs: Attributes): boolean {
  if (attrs[ATTR_ERROR_TYPE] === undefined) return false;
  return r.errorCode === undefined || r.status === undefined || r.status >= 500 || r.status < 400;
}

function bbrAttributes(r: RequestRecord): Attributes {
  const a: Attributes = {};
  if (r.model !== undefined) a['gen_ai.request.model'] = r.model;
  if (r.baseModel !== undefined) a['infergate.base_model'] = r.baseModel;
  if (r.modelField !== undefined) a['infergate.model_field'] = r.modelField;
  return a;
}

function routingAttributes(r: RequestRecord): Attributes {
  const a: Attributes = {};
  if (r.pool !== undefined) a['infergate.pool'] = r.pool;
  if (r.rewriteName !== undefined) a['infergate.rewrite'] = r.rewriteName;
  if (r.targetModel !== undefined) a['infergate.target_model'] = r.targetModel;
  return a;
}

function schedulingAttributes(r: RequestRecord): Attributes {
  // The pool is on the request span: the scheduling span adds what the pick was and why.
  const a: Attributes = r.schedulingTrace ? scheduleSummary(r.schedulingTrace) : {};
  const picked = r.attemptLog[0]?.endpoint ?? r.endpoint;
  if (picked !== undefined) a['infergate.scheduling.picked'] = picked;
  return a;
}
