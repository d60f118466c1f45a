/** Sends a planned request upstream, streams the answer back, and fails over when an endpoint fails before answering. */
import type { ServerResponse } from 'node:http';
import { DESTINATION_ENDPOINT_SERVED_HEADER, PREFILL_ENDPOINT_HEADER } from '../bbr/routing-headers.js';
import type { Endpoint } from '../epp/datastore/endpoint.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { passResponseHeaders } from '../upstream/response-headers.js';
import type { GatewayState, RoutePlan } from '../plan/plan-request.js';
import { preparePick } from '../plan/pick-stage.js';
import type { PickOutcome } from '../plan/pick-outcome.js';
import type { DecisionLog } from '../observability/decision-log.js';
import { pickAndRecord, scheduleTraces } from '../plan/record-decision.js';
import { sendError } from './send-error.js';
import { applyPickHeaders } from './pick-headers.js';
import { cutAnswer, markEventStream } from './cut-answer.js';
import { sendAttempt, type AttemptResult, type ResponseTarget } from '../upstream/send-attempt.js';
import type { ResponseChanges } from '../epp/external/response-changes.js';
import { Writable } from 'node:stream';
import { formatDuration } from '../upstream/duration.js';
import { headersOverflow, isRetryable, type FailureKind } from '../upstream/upstream-failure.js';
import { protocolMismatch } from '../upstream/protocol-mismatch.js';
import { unaskedInterim } from '../upstream/unasked-interim.js';
import type { Upstream } from '../upstream/upstream.js';
import type { RequestObserver, RequestRecord, UpstreamAttempt } from '../observability/request-record.js';
import { ResponseTap } from '../observability/response-tap.js';
import { headerRecord } from '../tenancy/rate-limit-headers.js';
import { askForStreamUsage } from '../tenancy/stream-usage.js';
import { UsageChunkFilter } from '../tenancy/usage-chunk-filter.js';
import { admissionHeaders, type Admission } from '../tenancy/tenancy.js';
import { Cancellation, type CancelCause } from '../upstream/cancellation.js';
import { StageLoad } from '../upstream/in-flight.js';
import { admitToFlow, flowControllerFor, releasePlan, viewAfterWait, waitForDispatch } from '../plan/flow-admission.js';
import type { FlowController, Ticket } from '../flowcontrol/flow-controller.js';
import { exposeAdded } from './cors.js';
import type { PrefillLeg } from '../disagg/prefill-leg.js';
import { prefilled } from './prefill-stage.js';

/** What forward needs of the gateway: one per configuration in force (Gateway.forwardContext), shared by its requests. */
export interface ForwardContext {
  readonly state: GatewayState;
  /** Records each pick with its plugins' scores when enabled (`GET /debug/scheduling`). */
  readonly decisions?: DecisionLog;
  readonly upstream: Upstream;
  readonly maxAttempts: number;
  readonly log: Logger;
  /** The gateway's observers (metrics, access log, traces, dashboard); each observed request brings its record. */
  readonly observer?: RequestObserver;
  /** `--kv-connector`: P/D's prefill leg, made by the gateway before the decode attempt (src/disagg). */
  readonly prefill?: PrefillLeg;
}

export interface ForwardRequest {
  method: string;
  /** Path with query string, as the client sent it. */
  url: string;
  headers: Record<string, string | string[]>;
  body: Buffer | undefined;
  requestId: string;
  /** The tenant's admission with --api-keys: its `x-ratelimit-*` go on the upstream's answer and the gateway's own. */
  admission?: Admission | undefined;
  /** What the observers see of this request: set exactly when the context has an observer. */
  record?: RequestRecord | undefined;
}

/**
 * Tries up to `maxAttempts` endpoints. Only a failure before any response byte (refused, reset, connect
 * or header timeout) moves on to another endpoint; once the upstream answered, its status and body pass
 * through unchanged. A client that goes away, or the pool's upstream timeout, aborts the upstream request.
 * Timeouts and passive health are the upstream's (src/upstream/send-attempt.ts).
 */
export async function forward(ctx: ForwardContext, plan: RoutePlan, req: ForwardRequest, res: ServerResponse): Promise<void> {
  // Why the request stopped, if it did: its client left, or its upstream timeout passed (cancel.cause).
  const cancel = new Cancellation();
  // Flow control: the controller whose slot the request holds once dispatched, and its ticket while it waits.
  let flow: FlowController | undefined;
  let queued: Ticket | undefined;
  let queuedIn: FlowController | undefined;
  // The client is gone when the response closes before it finished: nothing else closes it while an attempt
  // runs (the attempt writes into it and never destroys it). One listener per request, on the response.
  const onClose = (): void => {
    if (res.writableFinished) return;
    // A request waiting in a flow-control queue leaves it at once (llm-d's rejected-context-cancelled).
    if (queued !== undefined) queuedIn!.cancel(queued);
    cancel.cancel('client');
  };
  res.on('close', onClose);
  // Endpoints already tried and why they failed: only a failover needs them.
  let tried: Set<string> | undefined;
  let failures: string[] | undefined;
  let timedOut = 0;
  let refused = 0;
  let staleRetried = false;
  // The request headers the last pick's profile handler set (P/D), so a later pick without them takes them off.
  let lastExtra: Readonly<Record<string, string | undefined>> | undefined;
  // The pool's total limit (Envoy's route timeout), off by default: no timer per request then.
  const totalMs = plan.view ? ctx.upstream.policies.forPool(plan.view.key).timeouts.upstreamMs : 0;
  // A request still queued when its deadline passes leaves its queue then and gets its 504 at once, as Envoy's
  // route timeout cancels a request llm-d's EPP holds; it would otherwise wait on past it for a dispatch (or a
  // queue TTL) only to be refused then, keeping its place in the band's maxRequests meanwhile.
  const onDeadline = (): void => {
    if (queued !== undefined) queuedIn!.cancel(queued);
    cancel.cancel('deadline');
  };
  const deadline = totalMs > 0 ? setTimeout(onDeadline, totalMs) : undefined;
  const streamed = plan.json?.stream === true;
  // --api-keys: a stream that did not ask for usage asks for it upstream, so its tokens count; the client does not see it.
  const hideUsage = streamed && plan.tenant !== undefined && askForStreamUsage(req, plan.json);
  // What the observers see of the request; both set, or neither.
  const r = req.record;
  const observer = r === undefined ? undefined : ctx.observer;
  try {
    // Flow control (featureGates: [flowControl]): the request waits for dispatch before the pick, so the pick is
    // late-bound. Off for every pool, this is one property read: no promise, no allocation.
    const c = flowControllerFor(ctx.state.flowControl, plan);
    if (c !== undefined) {
      queued = admitToFlow(c, plan, req.body?.length ?? 0, res);
      if (queued !== undefined) {
        queuedIn = c;
        const dispatched = await waitForDispatch(queued, res, () => cancel.cause !== undefined);
        queued = undefined;
        if (!dispatched) {
          if (cancel.cause === 'deadline') throw deadlineError(plan, totalMs, []);
          return clientLeft(r);
        }
        viewAfterWait(ctx.state.datastore, plan);
      }
      flow = c;
      if (cancel.cause === 'client') return clientLeft(r);
    }
    // The pool's data producers (a tokenizer for precise prefix scoring) before the first pick; bounded, and a
    // promise only when a pool has them.
    const prepared = preparePick(ctx.state, plan);
    if (prepared) await prepared;
    for (let attempt = 1; attempt <= ctx.maxAttempts; attempt++) {
      // After a failed attempt, or a wait: the client that left, or the deadline that passed, ends it here.
      if (cancel.cause === 'client') return clientLeft(r);
      if (cancel.cause === 'deadline') throw deadlineError(plan, totalMs, failures ?? []);
      let pick: PickOutcome;
      // A sampled trace reads the first pick's scores: only that pick runs traced for it.
      const traceSchedule = attempt === 1 && r !== undefined && observer!.tracesScheduling?.(r) === true;
      try {
        // A pool another endpoint picker serves: the next endpoint of its list (src/proxy/external-pick-stage.ts).
        pick = plan.external === undefined ? pickAndRecord(ctx.state, plan, tried, ctx.decisions, traceSchedule) : plan.external.pick(tried);
      } catch (e) {
        if (traceSchedule) r!.schedulingTrace = scheduleTraces(plan);
        if (failures === undefined) throw e;
        break; // nothing left to fail over to: report what was tried
      }
      if (traceSchedule) r!.schedulingTrace = scheduleTraces(plan);
      const ep = pick.endpoint;
      // The profile handler's headers for this pick (P/D: the prefill pod for the decode pod's sidecar), replacing an earlier attempt's.
      lastExtra = applyPickHeaders(req.headers, pick.result.requestHeaders, lastExtra);
      // P/D: the prefill (and encode) pods work for this attempt until its answer starts.
      const stages = StageLoad.of(pick.result.stageEndpoints);
      // With --kv-connector the gateway makes the prefill leg itself, as llm-d's sidecar would in front of the pod.
      let body = req.body ?? null;
      const prefillAt = ctx.prefill === undefined ? undefined : pick.result.requestHeaders?.[PREFILL_ENDPOINT_HEADER];
      if (prefillAt !== undefined && plan.json !== undefined) {
        body = await prefilled(ctx, plan, req, prefillAt, cancel, body);
        // The client may have left while the prefill ran (TypeScript keeps the narrowing from before the await).
        if ((cancel.cause as CancelCause | undefined) === 'client') {
          stages?.release();
          return clientLeft(r);
        }
      }
      let attemptLog: UpstreamAttempt | undefined;
      if (r) attemptLog = attemptStarting(observer!, r, ep.address, req.headers, picked(observer!, r, pick));
      // Reads the answer as it passes to the client, for token timing and usage.
      let tap: ResponseTap | undefined;
      let result: AttemptResult;
      /** The answer the client got is an event stream: a failure after its headers is told in it (cut-answer.ts). */
      let sseAnswer = false;
      try {
        // The answer's headers go to the client with the gateway's own; returns where its body goes.
        const respond = (statusCode: number, raw: readonly Buffer[], changes?: ResponseChanges): ResponseTarget => {
          stages?.release();
          const { list, contentType } = passResponseHeaders(raw);
          list.push(DESTINATION_ENDPOINT_SERVED_HEADER, ep.address, 'x-request-id', req.requestId);
          if (req.admission !== undefined) list.push(...req.admission.headers);
          // An external picker's changes to the answer, as Envoy applies them (its status too).
          if (changes?.kind === 'headers') statusCode = plan.external!.applyChanges(list, changes, statusCode);
          // Plugins' response hooks, e.g. session affinity's token for the client to send back.
          const before = list.length;
          pick.poolScheduler.scheduler.responseHeadersInto(pick.ctx, pick.result, ep, list);
          if (list.length > before) exposeAdded(res, list, before);
          res.writeHead(statusCode, list);
          // A streaming client sees the response start before the first token: its headers are flushed on their
          // own unless a first chunk came with them (then they share its socket write). A whole answer's headers
          // always go out with its body: one socket write fewer per request (issue #11).
          const sse = contentType !== undefined && contentType.includes('text/event-stream');
          sseAnswer = sse;
          if (sse) markEventStream(res);
          const flushHeaders = streamed || sse ? flushHeadersOf(res) : undefined;
          if (r) {
            r.status = statusCode;
            attemptLog!.headersAt = performance.now();
            attemptLog!.status = statusCode;
            tap = new ResponseTap(r, contentType, observer);
          }
          // Requests on the Responses API only: the id of a created response is read as it passes (src/affinity).
          const hook = plan.answerHook;
          const reader = hook === undefined ? tap : hook.answered(statusCode, ep.address, tap);
          const out = hideUsage && sse ? new UsageChunkFilter(res) : res;
          return reader ? { out, tap: reader, flushHeaders } : { out, flushHeaders };
        };
        // The upstream body goes straight into `res` with backpressure, chunk by chunk as it arrives (SSE is
        // never buffered), and `res` ends when the upstream ends.
        const external = plan.external;
        const request = { method: req.method, path: req.url, headers: req.headers, body, streamed, cancel };
        // A pool another endpoint picker serves: the answer waits for the picker's changes to it. Any other pool's
        // answer goes straight to `respond` (no second closure per attempt).
        result = await sendAttempt(ctx.upstream, ep, plan.view!, request, external === undefined ? respond : (statusCode, raw) => {
          const asked = external.answered(statusCode, raw, ep);
          if (asked === undefined) return respond(statusCode, raw);
          return asked.then((changes) => {
            // The client left, the deadline passed or the endpoint failed while the picker was asked: the attempt
            // is over, and the client has its answer (or nobody is left to get one).
            if (cancel.cancelled || res.headersSent) return discard();
            if (changes.kind !== 'immediate') return respond(statusCode, raw, changes);
            // Its immediate response replaces the answer, whose rest is not read.
            external.replace(res, changes, req.requestId);
            if (attemptLog) {
              // The attempt itself was answered: traces show the endpoint's status, not the abort that follows.
              attemptLog.headersAt = performance.now();
              attemptLog.status = statusCode;
            }
            cancel.cancel('replaced');
            return discard();
          });
        });
      } finally {
        stages?.release();
        pick.poolScheduler.scheduler.responseComplete(pick.ctx, pick.result, ep);
        if (attemptLog) attemptLog.endedAt = performance.now();
        tap?.end();
      }
      if (!result.ok && attemptLog && cancel.cause !== 'replaced') attemptLog.error = result.code;
      if (result.ok || cancel.cause === 'replaced') return;
      const log = { request_id: req.requestId, endpoint: ep.address, error: result.code };
      if (cancel.cause === 'client') {
        ctx.log.debug('client disconnected; upstream request aborted', log);
        if (r) r.clientGone = true;
        return;
      }
      if (result.answered) {
        // The endpoint answered, so the request is not tried again. While an external picker held the answer
        // nothing reached the client yet, and the failure is told in-band as for an unanswered request.
        if (!res.headersSent) {
          if (cancel.cause === 'deadline') throw deadlineError(plan, totalMs, [...(failures ?? []), `${ep.address}: answered, cut at the deadline before its headers went out`]);
          throw upstreamError(result.code, result.error, ep);
        }
        // Bytes already reached the client: nothing can be retried or reported in-band. The client sees the
        // connection cut; the observers see the failure (access log, error counters, dashboard), not a 200.
        ctx.log.warn(cancel.cause === 'deadline' ? `upstream response cut: the request took longer than its upstream timeout (${formatDuration(totalMs)})` : 'upstream response ended with an error', log);
        const code = cutResponseCode(cancel.cause === 'deadline', result.kind);
        if (r) r.errorCode = code;
        cutAnswer(res, sseAnswer, cutError(code, cancel.cause === 'deadline', totalMs, result, ep, ctx.upstream, plan.view!.key));
        return;
      }
      if (cancel.cause === 'deadline') throw deadlineError(plan, totalMs, [...(failures ?? []), `${ep.address}: cut at the deadline`]);
      if (!isRetryable(result.kind)) throw upstreamError(result.code, result.error, ep);
      // A keep-alive connection the endpoint closed as the request went out on it: the endpoint never saw the
      // request, so it stays a candidate (once), and a one-pod pool still answers.
      if (result.kind === 'stale' && !staleRetried) staleRetried = true;
      else (tried ??= new Set()).add(ep.address);
      (failures ??= []).push(`${ep.address}: ${describeFailure(result, streamed, ctx.upstream, plan.view!.key)}`);
      if (result.kind === 'timeout') timedOut++;
      else if (result.kind === 'connect') refused++;
      // An idle connection closed under the request is routine (keep-alive timeouts meet): no warning for it.
      if (result.kind === 'stale') ctx.log.debug('upstream closed an idle connection as the request went out; sending it again', { ...log, attempt, of: ctx.maxAttempts });
      else ctx.log.warn(result.kind === 'timeout' ? 'upstream did not answer in time' : 'upstream connection failed', { ...log, attempt, of: ctx.maxAttempts });
    }
    throw noAnswerError(plan.view?.key ?? '?', failures ?? [], timedOut, refused);
  } catch (e) {
    if (!(e instanceof GatewayError)) throw e;
    // With --api-keys the gateway's own refusals after admission (flow control's 429/503, an upstream failure)
    // carry the tenant's x-ratelimit-* headers as every other answer does (docs/tenancy.md).
    // Refused before any pod was tried, the request is given back to the tenant's limits: the headers say so.
    const gatewayHeaders = admissionHeaders(req.admission, r?.attempts === 0);
    const headers = gatewayHeaders === undefined ? { 'x-request-id': req.requestId } : { ...headerRecord(gatewayHeaders), 'x-request-id': req.requestId };
    sendError(res, e, headers);
    if (r) r.errorCode = e.code;
  } finally {
    if (deadline) clearTimeout(deadline);
    res.off('close', onClose);
    if (flow !== undefined) releasePlan(flow, plan);
  }
}

/**
 * The error an answer cut after its headers went out counts as: `upstream_timeout` when a limit cut it (the
 * pool's upstream timeout, or the stream idle timeout), else `upstream_unavailable` (the pod reset or closed it).
 */
export function cutResponseCode(deadline: boolean, kind: FailureKind): 'upstream_timeout' | 'upstream_unavailable' {
  return deadline || kind === 'timeout' ? 'upstream_timeout' : 'upstream_unavailable';
}

/** What a stream cut after its headers tells its client in-band: which endpoint, and what stopped it. */
function cutError(code: 'upstream_timeout' | 'upstream_unavailable', deadline: boolean, totalMs: number, r: Extract<AttemptResult, { ok: false }>, ep: Endpoint, up: Upstream, pool: string): GatewayError {
  const from = `the stream from endpoint ${ep.address} (pod ${ep.podKey})`;
  const why = deadline
    ? `was cut at its InferencePool's upstream timeout of ${formatDuration(totalMs)} (--upstream-timeout or the pool's infergate.io/upstream-timeout)`
    : r.kind === 'timeout'
      ? `sent nothing for ${formatDuration(up.policies.forPool(pool).timeouts.streamIdleMs)} and was cut (--stream-idle-timeout)`
      : `broke off before it finished (${r.code})`;
  return new GatewayError(code, `${from} ${why}; the answer so far is incomplete. Send the request again`);
}

function upstreamError(code: string, e: unknown, ep: Endpoint): GatewayError {
  // An endpoint that speaks another HTTP version than its pool's appProtocol: name the protocol and the fix.
  const why = protocolMismatch(e, ep.h2c) ?? unaskedInterim(e) ?? headersOverflow(e) ?? `${code}: ${(e as Error).message}`;
  // Not sent again by the gateway, since the pod may have run it; `x-should-retry: false` keeps the openai SDKs from
  // sending it again either (they retry every 502 otherwise).
  return new GatewayError('upstream_unavailable', `endpoint ${ep.address} (pod ${ep.podKey}) failed: ${why}`, null, false);
}

function deadlineError(plan: RoutePlan, totalMs: number, failures: readonly string[]): GatewayError {
  const tried = failures.length > 0 ? ` (attempts: ${failures.join('; ')})` : '';
  return new GatewayError('upstream_timeout', `no answer from InferencePool ${plan.view?.key ?? '?'} within its upstream timeout of ${formatDuration(totalMs)}${tried}. Retry later, or raise --upstream-timeout or the pool's infergate.io/upstream-timeout annotation`);
}

/** A failed attempt in the error message: the code, for a timeout which limit it was, for a reset that it was one. */
function describeFailure(r: Extract<AttemptResult, { ok: false }>, streamed: boolean, up: Upstream, pool: string): string {
  // undici's UND_ERR_SOCKET ("other side closed") and the HTTP/2 codes do not say the endpoint had accepted the request.
  if (r.kind === 'reset') return `${r.code} (the connection was closed or reset before an answer)`;
  if (r.kind === 'stale') return `${r.code} (the endpoint closed an idle keep-alive connection as the request went out on it)`;
  if (r.code !== 'UND_ERR_HEADERS_TIMEOUT') return r.code;
  const t = up.policies.forPool(pool).timeouts;
  return streamed ? `no response headers within ${formatDuration(t.streamHeadersMs)} (stream-headers-timeout)` : `no response within ${formatDuration(t.responseHeadersMs)} (response-headers-timeout)`;
}

/**
 * Every attempt failed before an answer: 504 when each one timed out (as Envoy answers), else 502, which says it
 * could not connect only when no connection was made at all (an endpoint that accepted and then closed or reset
 * it is running, and needs another look than an unreachable one).
 */
function noAnswerError(pool: string, failures: readonly string[], timedOut: number, refused: number): GatewayError {
  const n = `${failures.length} attempt(s): ${failures.join('; ')}`;
  if (timedOut > 0 && timedOut === failures.length) {
    return new GatewayError('upstream_timeout', `no endpoint of InferencePool ${pool} answered in time after ${n}. The endpoints accept connections but do not answer; check the pods named, or raise the timeout if they are only slow`);
  }
  const what = refused === failures.length ? 'could not connect to any endpoint' : 'could not get an answer from any endpoint';
  return new GatewayError('upstream_unavailable', `${what} of InferencePool ${pool} after ${n}`);
}

/**
 * A pick for the observers: the first one schedules the request (llm-d counts it from then on); each one is an
 * attempt. Returns when the pick ended: a timed schedule read the clock as it ended, so it is not read again.
 */
function picked(observer: RequestObserver, r: RequestRecord, pick: PickOutcome): number {
  r.attempts++;
  r.endpoint = pick.endpoint.address;
  const at = pick.result.timedUntil ?? performance.now();
  if (r.scheduledAt !== undefined) return at;
  r.scheduledAt = at;
  observer.scheduled?.(r);
  return at;
}

/**
 * The client went away before an attempt answered it (while queued, waiting for a tokenizer, or between attempts):
 * its record says so, as for one that left during an attempt, rather than ending with no status and no reason.
 */
function clientLeft(r: RequestRecord | undefined): void {
  if (r) r.clientGone = true;
}

/** Logs an attempt starting `at` and adds the headers observers ask for (a trace's `traceparent`) to the upstream request. */
function attemptStarting(observer: RequestObserver, r: RequestRecord, endpoint: string, headers: Record<string, string | string[]>, at: number): UpstreamAttempt {
  const a: UpstreamAttempt = { endpoint, startedAt: at };
  r.attemptLog.push(a);
  const extra = observer.attemptStarting?.(r, a);
  if (extra) {
    // The pod gets the observer's trace context whole: without a tracestate of its own, the client's is dropped (it
    // belongs to the client's trace, which a trace restarted over an unusable traceparent is not; W3C Trace Context).
    if (extra.traceparent !== undefined && extra.tracestate === undefined) delete headers.tracestate;
    Object.assign(headers, extra);
  }
  return a;
}

/** Where the rest of an answer nobody will read goes (its attempt is already aborted; a chunk in flight is dropped). */
function discard(): ResponseTarget {
  return {
    out: new Writable({
      write(_chunk, _encoding, callback) {
        callback();
      },
    }),
  };
}

/** Flushes `res`'s headers unless the response is already over (ended, or the client gone). */
function flushHeadersOf(res: ServerResponse): () => void {
  return () => {
    if (!res.writableEnded && !res.destroyed) res.flushHeaders();
  };
}
