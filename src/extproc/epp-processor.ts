/**
 * The endpoint picker as an ext_proc processor: the gateway's own route, pool and pick code (planRoute,
 * planPick), answered as Envoy expects (REFERENCE §3): the pick in header x-gateway-destination-endpoint
 * and in dynamic metadata envoy.lb; the in-flight count held until the response ends, and counted as
 * unanswered until its response headers pass (src/upstream/in-flight.ts, as the standalone proxy counts).
 * With `featureGates: [flowControl]` the request waits in its pool's flow-control queue once its body is read,
 * and is picked when dispatched (late binding), as in llm-d's EPP.
 * Timeouts and outlier detection are Envoy's own here (its route timeouts and the cluster's outlier_detection).
 */
import type { Metadata as GrpcMetadata } from '@grpc/grpc-js';
import { DESTINATION_ENDPOINT_HEADER, DESTINATION_ENDPOINT_SERVED_HEADER, isReservedRoutingHeader } from '../bbr/routing-headers.js';
import type { Endpoint } from '../epp/datastore/endpoint.js';
import { GatewayError, asGatewayError } from '../errors.js';
import type { DecisionLog } from '../observability/decision-log.js';
import type { Logger } from '../logger.js';
import type { AdminPathPolicy } from '../policy/admin-paths.js';
import type { PickOutcome } from '../plan/pick-outcome.js';
import { preparePick } from '../plan/pick-stage.js';
import { planRoute, type GatewayState } from '../plan/plan-request.js';
import { recordPlan, recordTraceContext } from '../plan/record-plan.js';
import { newRequestRecord, type RequestObserver, type RequestRecord, type UpstreamAttempt } from '../observability/request-record.js';
import { ResponseTap } from '../observability/response-tap.js';
import { modelFieldProblem } from '../bbr/extract-model.js';
import { pickAndRecord, scheduleTraces } from '../plan/record-decision.js';
import type { ExtprocMetrics } from './extproc-metrics.js';
import { NO_HEADER_CHANGES, type HeaderChanges } from '../envoy/header-map.js';
import { incomingRequest, spoofedHeaders } from './incoming-request.js';
import { PinnedStates, namedPool, resolvePoolKey } from './pool-selection.js';
import type { Exchange, Processor, ProcessedRequest, RequestVerdict } from './processor.js';
import type { FilterMetadata, JsonValue } from '../envoy/struct-value.js';
import { reportedUsage } from './usage-report.js';
import { restrictToSubset, subsetHint } from '../epp/subset-hint.js';
import { StageLoad, requestEnded, requestSent, responseStarted } from '../upstream/in-flight.js';
import { admitPlan, flowControllerFor, releasePlan, viewAfterWait } from '../plan/flow-admission.js';
import type { FlowController, Ticket } from '../flowcontrol/flow-controller.js';
import type { RoutePlan } from '../plan/plan-request.js';
import type { PoolCredential } from '../upstream/upstream-auth.js';

/** Dynamic metadata namespace of the pick, and where the data plane reports the endpoint that served. */
export const LB_METADATA_NAMESPACE = 'envoy.lb';

export interface EppProcessorOptions {
  state: () => GatewayState | undefined;
  metrics: ExtprocMetrics;
  log: Logger;
  /** Recent picks with every plugin's scores, for `GET /debug/scheduling` on the metrics port. */
  decisions?: DecisionLog;
  /** vLLM admin paths refused with 403 before any pick (Envoy routes them here when a route prefix covers them). */
  adminPaths?: AdminPathPolicy;
  /**
   * Told of each request the picker handles (metrics, dashboard, traces): the pick, the status the response
   * headers carry, the end; and, when the data plane sends the response body (`response_body_mode`
   * FULL_DUPLEX_STREAMED, as deploy/ configures it), its size, token timing and `usage`, read as `serve` reads them.
   */
  observer?: RequestObserver;
  /** The pool's upstream API key (src/upstream/upstream-credentials.ts): Envoy sends it to the pod in place of the client's Authorization. */
  credentials?: (poolKey: string) => PoolCredential | undefined;
}

export class EppProcessor implements Processor {
  readonly name = 'epp';
  readonly #opts: EppProcessorOptions;
  readonly #pinned = new PinnedStates();

  constructor(opts: EppProcessorOptions) {
    this.#opts = opts;
  }

  begin(grpcMetadata: GrpcMetadata): Exchange {
    return new EppExchange(this.#opts, this.#pinned, grpcMetadata);
  }
}

/** A request routed to its pool, before the pick; `queue` when flow control holds it. */
interface Planned {
  state: GatewayState;
  plan: RoutePlan;
  queue?: { controller: FlowController; ticket: Ticket };
}

type Reject = Extract<RequestVerdict, { kind: 'reject' }>;

class EppExchange implements Exchange {
  readonly #opts: EppProcessorOptions;
  readonly #pinned: PinnedStates;
  readonly #grpcMetadata: GrpcMetadata;
  #pick: PickOutcome | undefined;
  #state: GatewayState | undefined;
  #served: Endpoint | undefined;
  /** What the observers see of this request; undefined without observers, and once it ended. */
  #record: RequestRecord | undefined;
  /** Response headers passed: the pick's endpoint (or the one the data plane retried on) answered. */
  #answered = false;
  /** Reads the response body as it passes, for the record (token timing, usage); set with the response headers. */
  #tap: ResponseTap | undefined;
  /** The in-flight ticket of the pick (src/upstream/in-flight.ts), on `#counted`. */
  #ticket = 0;
  /** P/D: the prefill and encode pods of the pick, counted in flight until the answer starts. */
  #stages: StageLoad | undefined;
  /**
   * The endpoint the request's in-flight count is on: the pick, or the one the data plane reports served it;
   * undefined once released early (it served from an endpoint the picker does not know).
   */
  #counted: Endpoint | undefined;
  /** Flow control: the controller whose dispatch slot the request holds until it ends, and the plan (its flow key). */
  #flow: { controller: FlowController; plan: RoutePlan } | undefined;
  /** Flow control: where the request waits for dispatch, until it is dispatched or dropped. */
  #queued: { controller: FlowController; ticket: Ticket } | undefined;
  /** The stream ended (finish): a dispatch that comes after is given back. */
  #ended = false;
  /** The request's x-request-id, for the log lines about it. */
  #requestId: string | undefined;
  /**
   * When the stream opened (Envoy opens it with the request headers), monotonic and wall-clock: the request's
   * arrival, as llm-d's EPP takes it, so its duration, TTFT and processing time include the body's upload.
   */
  readonly #openedAt: number;
  readonly #openedAtWall: number;

  constructor(opts: EppProcessorOptions, pinned: PinnedStates, grpcMetadata: GrpcMetadata) {
    this.#opts = opts;
    this.#pinned = pinned;
    this.#grpcMetadata = grpcMetadata;
    this.#openedAt = opts.observer ? performance.now() : 0;
    this.#openedAtWall = opts.observer ? Date.now() : 0;
  }

  decide(req: ProcessedRequest): RequestVerdict | Promise<RequestVerdict> {
    const started = performance.now();
    this.#requestId = req.headers.get('x-request-id');
    if (this.#opts.observer) {
      const r = recordOf(req.headers);
      r.startedAt = this.#openedAt;
      r.startTime = this.#openedAtWall;
      r.requestBytes = req.body?.length ?? 0;
      this.#record = r;
    }
    const planned = this.#attempt(() => this.#plan(req));
    if ('kind' in planned) return this.#timed(planned, started, 0);
    if (planned.queue === undefined) return this.#pickAfterProducers(req, planned, started, 0);
    // Queued: the wait is not the picker's time; what was spent before it is added to the pick after.
    return this.#afterDispatch(req, planned, planned.queue, performance.now() - started);
  }

  /** Route, pool and, with flow control on, admission to the pool's queue (a full queue throws its 429/503). */
  #plan(req: ProcessedRequest): Planned | Reject {
    const path = req.headers.get(':path');
    if (path !== undefined) this.#opts.adminPaths?.check(path.split('?', 1)[0]!);
    const state = this.#opts.state();
    if (!state) throw new GatewayError('not_ready', 'the endpoint picker has no configuration in force yet; retry shortly');
    this.#state = state;
    const named = namedPool(req.metadata, this.#grpcMetadata);
    const planState = named ? this.#pinned.get(state, resolvePoolKey(state, named), named.source) : state;
    const r = this.#record;
    // Timed when observed: traces end the body-based routing stage where it ended, not where routing did.
    // The stages are timed only for an observer that reads their ends (traces).
    const stageTimes = r !== undefined && this.#opts.observer!.stageTimes === true;
    const plan = planRoute(planState, incomingRequest(req.headers, req.body, req.parsedBody), stageTimes ? TIMED : undefined);
    if (r) recordPlan(r, plan, stageTimes);
    if (plan.error) return { kind: 'reject', error: plan.error };
    const controller = flowControllerFor(state.flowControl, plan);
    if (controller === undefined) return { state, plan };
    const ticket = admitPlan(controller, plan, req.body?.length ?? 0);
    if (ticket === undefined) {
      this.#flow = { controller, plan };
      return { state, plan };
    }
    this.#queued = { controller, ticket };
    return { state, plan, queue: this.#queued };
  }

  /** Waits in the flow-control queue, then picks among the pool's endpoints as they are at dispatch (late binding). */
  async #afterDispatch(req: ProcessedRequest, planned: Planned, queue: { controller: FlowController; ticket: Ticket }, spentMs: number): Promise<RequestVerdict> {
    try {
      await queue.ticket.done;
    } catch (e) {
      this.#queued = undefined;
      // Dropped because the stream closed: nothing is answered, the record ends as a client gone.
      if (this.#ended) return this.#gone(e);
      return this.#attempt(() => {
        throw e;
      });
    }
    this.#queued = undefined;
    if (this.#ended) {
      // Dispatched as the stream closed: the slot goes back at once.
      releasePlan(queue.controller, planned.plan);
      return this.#gone(undefined);
    }
    this.#flow = { controller: queue.controller, plan: planned.plan };
    const resumed = performance.now();
    viewAfterWait(planned.state.datastore, planned.plan);
    return this.#pickAfterProducers(req, planned, resumed, spentMs);
  }

  /**
   * The pool's data producers first (a tokenizer for precise prefix scoring, each bounding its own wait), as serve
   * waits for them, so a new prompt is scored on its tokens rather than approximately; then the pick. Envoy holds
   * the request meanwhile, so the wait counts in the pick's time. A promise only when a producer waits.
   */
  #pickAfterProducers(req: ProcessedRequest, planned: Planned, since: number, spentMs: number): RequestVerdict | Promise<RequestVerdict> {
    const prepared = preparePick(planned.state, planned.plan);
    if (prepared === undefined) return this.#timed(this.#attempt(() => this.#pickVerdict(req, planned)), since, spentMs);
    return prepared.then(() => {
      // The stream closed while the tokens were on their way: no pick (finish has run, nothing would end it).
      if (this.#ended) return this.#gone(undefined);
      return this.#timed(this.#attempt(() => this.#pickVerdict(req, planned)), since, spentMs);
    });
  }

  /** The pick, answered as Envoy expects: destination header, envoy.lb metadata, routing headers, credentials. */
  #pickVerdict(req: ProcessedRequest, { state, plan }: Planned): RequestVerdict {
    const r = this.#record;
    const subset = subsetHint(req.metadata);
    if (subset && plan.view) plan.view = restrictToSubset(plan.view, subset);
    const traceSchedule = r !== undefined && this.#opts.observer!.tracesScheduling?.(r) === true;
    const pick = pickAndRecord(state, plan, undefined, this.#opts.decisions, traceSchedule);
    this.#ticket = requestSent(pick.endpoint);
    this.#stages = StageLoad.of(pick.result.stageEndpoints);
    this.#counted = pick.endpoint;
    this.#pick = pick;
    let traceHeaders: Record<string, string> | undefined;
    if (r) {
      if (traceSchedule) r.schedulingTrace = scheduleTraces(plan);
      r.attempts = 1;
      r.endpoint = pick.endpoint.address;
      // A timed schedule read the clock as it ended: the request is scheduled then, and its attempt starts then.
      const at = pick.result.timedUntil ?? performance.now();
      r.scheduledAt = at;
      this.#opts.observer!.scheduled?.(r);
      // Envoy sends the request on: the attempt's span context goes with it, as the proxy sends it to the pod.
      const attempt: UpstreamAttempt = { endpoint: pick.endpoint.address, startedAt: at };
      r.attemptLog.push(attempt);
      traceHeaders = this.#opts.observer!.attemptStarting?.(r, attempt);
    }
    // The primary first, then the picker's fallbacks (maxNumOfEndpoints above 1), as GIE's protocol allows.
    const ranked = pick.result.ranked && pick.result.ranked.length > 1 ? pick.result.ranked.map((e) => e.address).join(',') : pick.endpoint.address;
    const set: Record<string, string> = { ...plan.routingHeaders, ...traceHeaders, [DESTINATION_ENDPOINT_HEADER]: ranked };
    // The profile handler's headers (P/D: the prefill pod for the decode pod's sidecar); unset ones stay removed below.
    const extra = pick.result.requestHeaders;
    if (extra !== undefined) for (const name in extra) if (extra[name] !== undefined) set[name] = extra[name];
    const remove = spoofedHeaders(req.headers, set, isReservedRoutingHeader);
    // The trace context the pod gets is the observer's, whole: the client's tracestate goes when it gives none (a
    // trace restarted over an unusable traceparent; W3C Trace Context), as the proxy drops it.
    if (traceHeaders?.traceparent !== undefined && traceHeaders.tracestate === undefined && req.headers.has('tracestate')) remove.push('tracestate');
    // The pool's key replaces the client's Authorization (as the proxy does); one that cannot be read sends neither.
    const cred = this.#opts.credentials?.(plan.view!.key);
    if (cred?.authorization !== undefined) set.authorization = cred.authorization;
    else if (cred && req.headers.has('authorization')) remove.push('authorization');
    return {
      kind: 'continue',
      headers: { set, remove },
      ...(plan.body ? { body: plan.body } : {}),
      // As GIE's and llm-d's EPP answer (and their lightweight EPP): Envoy matches the routes again on the pick and
      // the routing headers, so a route that requires x-gateway-destination-endpoint (or the base model the picker's
      // own BBR stage set) applies without route_cache_action: CLEAR in the filter's configuration.
      clearRouteCache: true,
      dynamicMetadata: { [LB_METADATA_NAMESPACE]: { [DESTINATION_ENDPOINT_HEADER]: ranked } },
    };
  }

  /** Runs a stage of the decision: a failure becomes a reject verdict, and a reject ends the request's record. */
  #attempt<T extends object>(stage: () => T | Reject): T | Reject {
    try {
      const v = stage();
      if ('kind' in v && v.kind === 'reject') this.#refused(v.error);
      return v;
    } catch (e) {
      const error = asGatewayError(e);
      if (error.code === 'internal_error') this.#opts.log.error('endpoint pick failed', { ...(this.#requestId !== undefined ? { request_id: this.#requestId } : {}), error: error.message, stack: (e as Error).stack });
      this.#refused(error);
      return { kind: 'reject', error };
    }
  }

  #timed(verdict: RequestVerdict, since: number, spentMs: number): RequestVerdict {
    this.#opts.metrics.observePick((spentMs + performance.now() - since) / 1000);
    return verdict;
  }

  /** The stream closed while the request waited: its record ends as a client gone; the verdict is not read. */
  #gone(e: unknown): Reject {
    const r = this.#record;
    if (r) {
      this.#record = undefined;
      r.clientGone = true;
      r.endedAt = performance.now();
      this.#opts.observer!.ended(r);
    }
    return { kind: 'reject', error: asGatewayError(e ?? new GatewayError('request_queue_timeout', 'the stream closed while the request waited')) };
  }

  /**
   * The endpoint that served is the one the data plane reports in envoy.lb (it may have retried elsewhere),
   * else the pick. It goes back to the client in x-gateway-destination-endpoint-served, with whatever the
   * scheduler's response hooks add (session affinity's token).
   */
  responseHeaders(headers: Map<string, string>, metadata: FilterMetadata): HeaderChanges {
    if (this.#record === undefined) return this.#responseHeaders(headers, metadata);
    const started = performance.now();
    const changes = this.#responseHeaders(headers, metadata);
    this.#spentOnResponse(started);
    return changes;
  }

  #responseHeaders(headers: Map<string, string>, metadata: FilterMetadata): HeaderChanges {
    const pick = this.#pick;
    if (!pick) return NO_HEADER_CHANGES;
    const reported = metadata[LB_METADATA_NAMESPACE]?.[DESTINATION_ENDPOINT_SERVED_HEADER];
    const known = typeof reported === 'string' ? this.#state?.datastore.endpoint(reported) : undefined;
    // An endpoint the picker does not know (a pod deleted since the pick): the client is told it, not the pick, which
    // did not serve; the scheduler's hooks, which need one of the pool's endpoints, get the pick.
    const elsewhere = known === undefined && typeof reported === 'string' && reported !== pick.endpoint.address && SERVED_ADDRESS.test(reported) ? reported : undefined;
    const served = known ?? pick.endpoint;
    this.#served = served;
    const r = this.#record;
    if (r) {
      const status = Number(headers.get(':status'));
      if (Number.isInteger(status)) r.status = status;
      r.endpoint = elsewhere ?? served.address;
      const attempt = r.attemptLog[r.attemptLog.length - 1];
      if (attempt) {
        attempt.headersAt = performance.now();
        if (r.status !== undefined) attempt.status = r.status;
      }
      this.#tap = new ResponseTap(r, headers.get('content-type'), this.#opts.observer);
    }
    if (!this.#answered) {
      this.#answered = true;
      if (elsewhere !== undefined) {
        // Nothing the picker counts is serving it: the pick ended without an answer.
        requestEnded(pick.endpoint, this.#ticket, false);
        this.#counted = undefined;
      } else if (served !== pick.endpoint) {
        // The data plane went down the fallback list (or retried elsewhere): the pick ended without an answer, and
        // the load of the response streaming now is the served endpoint's, as the proxy counts each attempt on its own.
        requestEnded(pick.endpoint, this.#ticket, false);
        this.#ticket = requestSent(served);
        this.#counted = served;
      }
      if (this.#counted !== undefined) responseStarted(this.#counted, this.#ticket);
      this.#stages?.release();
    }
    const set: Record<string, string> = { [DESTINATION_ENDPOINT_SERVED_HEADER]: elsewhere ?? served.address };
    pick.poolScheduler.scheduler.responseHeaders(pick.ctx, pick.result, served, (name, value) => {
      set[name] = value;
    });
    return { set, remove: [] };
  }

  /** request-attribute-reporter: the response's usage through the pool's reporters, for the last answer's dynamic metadata. */
  responseEndMetadata(): Record<string, Record<string, JsonValue>> | undefined {
    const scheduler = this.#pick?.poolScheduler.scheduler;
    if (scheduler === undefined || !scheduler.reports) return undefined;
    // Every byte of the response has passed: its usage is read now rather than when the stream closes.
    this.#tap?.end();
    this.#tap = undefined;
    return reportedUsage(scheduler, this.#record?.usage, this.#opts.log);
  }

  responseBody(chunk: Buffer): void {
    const tap = this.#tap;
    if (tap === undefined) return;
    const started = performance.now();
    tap.chunk(chunk);
    this.#spentOnResponse(started);
  }

  /** llm-d's response processing time: the picker's own handling of each response message, summed. */
  #spentOnResponse(since: number): void {
    const r = this.#record;
    if (r) r.responseProcessingMs = (r.responseProcessingMs ?? 0) + (performance.now() - since);
  }

  /** The response ended (or the stream did): release the pick's in-flight count and run the scheduler's completion hooks. */
  finish(responseEnded: boolean, responseUnread = false): void {
    this.#ended = true;
    // Waiting in a flow-control queue: it leaves at once (llm-d's rejected-context-cancelled).
    if (this.#queued) this.#queued.controller.cancel(this.#queued.ticket);
    if (this.#flow) {
      releasePlan(this.#flow.controller, this.#flow.plan);
      this.#flow = undefined;
    }
    const pick = this.#pick;
    if (!pick) return;
    this.#pick = undefined;
    const r = this.#record;
    // The end of a response is handled too (completion hooks, usage): it counts in the response processing time.
    const handling = r !== undefined && this.#answered ? performance.now() : undefined;
    if (this.#counted !== undefined) requestEnded(this.#counted, this.#ticket, this.#answered);
    this.#counted = undefined;
    this.#stages?.release();
    this.#stages = undefined;
    pick.poolScheduler.scheduler.responseComplete(pick.ctx, pick.result, this.#served ?? pick.endpoint);
    if (r) {
      this.#record = undefined;
      r.endedAt = performance.now();
      const attempt = r.attemptLog[r.attemptLog.length - 1];
      if (attempt) attempt.endedAt = r.endedAt;
      // A stream that ended before the response did: the data plane gave up or the client left. Its answer is
      // not complete, so it adds no latency, size or token observation (as llm-d, which records them at end_of_stream).
      if (!this.#answered || !responseEnded) r.clientGone = true;
      else this.#tap?.end();
      if (responseUnread) r.responseUnread = true;
      this.#tap = undefined;
      if (handling !== undefined) r.responseProcessingMs = (r.responseProcessingMs ?? 0) + (performance.now() - handling);
      this.#opts.observer!.ended(r);
    }
  }

  /** A request the picker refused (an immediate response): it ends here. */
  #refused(error: GatewayError): void {
    const r = this.#record;
    if (!r) return;
    this.#record = undefined;
    r.errorCode = error.code;
    r.status = error.status;
    r.modelField ??= modelFieldProblem(error);
    r.endedAt = performance.now();
    this.#opts.observer!.ended(r);
  }
}

/** A record from the request headers Envoy sent (pseudo-headers included). */
function recordOf(headers: ReadonlyMap<string, string>): RequestRecord {
  const url = headers.get(':path') ?? '/';
  const q = url.indexOf('?');
  const r = newRequestRecord(headers.get('x-request-id') ?? '', headers.get(':method') ?? 'POST', q < 0 ? url : url.slice(0, q), headers.get('x-forwarded-for')?.split(',')[0]?.trim());
  recordTraceContext(r, (h) => headers.get(h));
  return r;
}

const TIMED = { timed: true } as const;

/** A served endpoint as the data plane reports it, fit for a header value: one `ip:port` (no list), visible ASCII. */
const SERVED_ADDRESS = /^[\x21-\x2b\x2d-\x7e]{1,262}$/;
