/**
 * What the data plane observed of one request, filled in stage by stage, and the observers (metrics, access
 * log, traces) that read it. One record per request; observers never change it (but for `metricsSeries`).
 */
import type { CycleTrace } from '../epp/framework/run-cycle.js';
import type { Tenant } from '../tenancy/tenant.js';
import { epochMsAt } from './wall-clock.js';

/** Token counts as the model server reported them in the response's `usage` (streamed or not). */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** `usage.prompt_tokens_details.cached_tokens`, when the server reports it. */
  cachedTokens?: number;
}

export interface RequestRecord {
  requestId: string;
  /** Wall-clock start (ms since the epoch), for logs. */
  startTime: number;
  /** Monotonic start (`performance.now()`, ms); every other time below is on the same clock. */
  startedAt: number;
  clientAddress?: string;
  method: string;
  /** Without the query string. */
  path: string;
  /** The model as the client sent it (`model_name`). */
  model?: string;
  /** The base model body-based routing mapped it to. */
  baseModel?: string;
  /** The model the pod was asked for, after an InferenceModelRewrite (`target_model_name`); else `model`. */
  targetModel?: string;
  /** The InferenceModelRewrite that changed the model, by name. */
  rewriteName?: string;
  /** From the request's InferenceObjective; 0 when it names none. */
  priority: number;
  /** The fairness id the request carries (`x-llm-d-inference-fairness-id`), if any. */
  fairnessId?: string;
  /** `namespace/name` of the InferencePool it was routed to. */
  pool?: string;
  /** The endpoint (ip:port) that answered, or the last one tried. */
  endpoint?: string;
  /** Endpoints tried; above 1 means failover. */
  attempts: number;
  /** Whether the client asked for a streamed answer (`stream: true`). */
  stream: boolean;
  requestBytes: number;
  responseBytes: number;
  /** When an endpoint was picked (the request counts as scheduled from then on, as llm-d counts). */
  scheduledAt?: number;
  /** When the first response byte of a streamed answer's first token event arrived. */
  firstTokenAt?: number;
  /** When the last token event arrived. */
  lastTokenAt?: number;
  /** Streamed token events seen (SSE `data:` events other than `[DONE]`). */
  tokenEvents: number;
  endedAt?: number;
  /** The status sent to the client; undefined when the connection broke before a status went out. */
  status?: number;
  /** The gateway's error code (errors.ts) when the gateway answered with an error. */
  errorCode?: string;
  /**
   * Set when body-based routing refused the body for its `model` field: absent, or present but empty or not a
   * string (GIE's `bbr_body_field_not_found_total` / `bbr_body_field_empty_total`); `modelFieldProblem(err)`
   * in src/bbr/extract-model.ts says which.
   */
  modelField?: 'not_found' | 'empty';
  /** Whether the client went away before the answer was complete. */
  clientGone?: boolean;
  usage?: Usage;
  /**
   * The request retrieves, cancels or deletes a stored Responses API response: the `usage` its answer carries is
   * that of the request that created the response, not work done now, so it is not taken as this request's
   * (token metrics, the access log, a tenant's token limits and quota).
   */
  storedResponse?: boolean;
  /**
   * The response body did not pass where the gateway reads it (`extproc` with `response_body_mode: NONE`): its
   * size, usage and token timing are unknown, so `responseBytes` is no observation.
   */
  responseUnread?: boolean;
  /**
   * `extproc`'s picker only: the time it spent handling the response's messages (headers, each body chunk), in ms;
   * llm-d's `response_processing_duration_seconds`. Unset where the gateway streams the answer itself (`serve`).
   */
  responseProcessingMs?: number;
  /** When body-based routing finished (model read and mapped). */
  bbrDoneAt?: number;
  /** When the HTTPRoute rule and pool were found. */
  routedAt?: number;
  /** Each upstream attempt, in order. */
  attemptLog: UpstreamAttempt[];
  /** The W3C `traceparent` the client sent, if any. */
  traceparent?: string;
  /** The W3C `tracestate` the client sent, if any (vendor data carried along with `traceparent`). */
  tracestate?: string;
  /** The trace of the request's span, set by tracing when it starts that span (the client's trace, or a new one). */
  traceId?: string;
  /**
   * The first pick's scheduling traces, one per profile that ran (filters, each scorer's raw scores, totals,
   * the pick): filled only when an observer asked for a traced pick (`RequestObserver.tracesScheduling`).
   */
  schedulingTrace?: readonly CycleTrace[];
  /**
   * The metrics observer's series for this request, resolved once when it is scheduled (a stream's every
   * inter-token gap reads it). Kept here rather than in a WeakMap: one per request made the collector's work grow.
   * Only that observer reads or writes it.
   */
  metricsSeries?: unknown;
  /** A pool served by an external endpoint picker: what it answered and when (src/proxy/external-pick-stage.ts). */
  externalPick?: ExternalPickRecord;
  /** The tenant the request's API key names (`--api-keys`, src/tenancy); unset without keys. */
  tenant?: Tenant;
  /** What src/tenancy counted for the request, corrected from `usage` when it ends; only src/tenancy reads it. */
  tenantAdmission?: unknown;
}

/** An external endpoint picker's part in a request. */
export interface ExternalPickRecord {
  /** Its decision: endpoints (`picked`), its own response (`immediate`), or none in time (`unavailable`: the failureMode). */
  outcome: 'picked' | 'immediate' | 'unavailable';
  /** From asking it to its decision or failure. */
  seconds: number;
  /**
   * Its answer to the endpoint's response headers: changes applied (`applied`, possibly none), its immediate
   * response instead (`replaced`), none usable (`unanswered`: the answer went on unchanged), or not asked
   * (`skipped`: --epp-response-header-mode skip or its mode_override). Unset when no endpoint answered.
   */
  response?: 'applied' | 'replaced' | 'unanswered' | 'skipped';
}

/** One try of one endpoint. */
export interface UpstreamAttempt {
  endpoint: string;
  startedAt: number;
  /** When response headers came back, if they did. */
  headersAt?: number;
  endedAt?: number;
  /** The upstream status, when it answered. */
  status?: number;
  /** Why the attempt failed (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`, ...), when it did. */
  error?: string;
}

/** Starts a record; the stages fill in the rest. */
export function newRequestRecord(requestId: string, method: string, path: string, clientAddress: string | undefined): RequestRecord {
  const startedAt = performance.now();
  const r: RequestRecord = {
    requestId,
    startTime: epochMsAt(startedAt),
    startedAt,
    method,
    path,
    priority: 0,
    attempts: 0,
    stream: false,
    requestBytes: 0,
    responseBytes: 0,
    tokenEvents: 0,
    attemptLog: [],
  };
  if (clientAddress !== undefined) r.clientAddress = clientAddress;
  return r;
}

/**
 * Reads records at the points where something is counted. Calls happen on the request path: an observer
 * does O(1) work and allocates little, or defers the rest.
 */
export interface RequestObserver {
  /**
   * Set when this observer reads `bbrDoneAt` and `routedAt` (traces' stage spans): without such an observer, body-
   * based routing and route matching are not timed (two clock reads a request spared).
   */
  readonly stageTimes?: boolean;
  /**
   * Asked once per request, before its first pick: true when this observer will read `schedulingTrace`, so
   * that pick runs traced (every plugin's scores kept). Tracing answers true for sampled requests only; with
   * no such observer, picks stay untraced at no cost.
   */
  tracesScheduling?(r: RequestRecord): boolean;
  /**
   * An attempt is about to be sent: headers to add to the upstream request (a trace's `traceparent`).
   * `attempt` is already the last entry of `r.attemptLog`.
   */
  attemptStarting?(r: RequestRecord, attempt: UpstreamAttempt): Record<string, string> | undefined;
  /** An endpoint was picked: `*_request_total` counts the request, `*_request_running` goes up. */
  scheduled?(r: RequestRecord): void;
  /** A gap between two streamed token events, in seconds (inter-token latency as the gateway sees it). */
  interTokenGap?(r: RequestRecord, seconds: number): void;
  /** The request is over (answered, refused, failed or abandoned); `endedAt` is set. Called exactly once. */
  ended(r: RequestRecord): void;
}
