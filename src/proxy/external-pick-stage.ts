/**
 * The pick of a pool whose endpointPickerRef names another endpoint picker (src/epp/picker-ref.ts): that picker
 * is asked over ext_proc (src/epp/external) and the request forwarded to the endpoints it chose, in its order,
 * one per attempt. Its immediate response goes to the client; when it cannot decide, the pool's failureMode
 * does: FailOpen forwards as infergate picks, FailClose answers 503. The endpoint's answer waits for the
 * picker's changes to its headers (or an immediate response replacing it), as Envoy waits for them. Only such pools come here: the handler
 * branches on `plan.externalPicker`, so infergate's own picks pay nothing for this stage.
 */
import type { ServerResponse } from 'node:http';
import type { Endpoint } from '../epp/datastore/endpoint.js';
import { eligibleEndpoints } from '../epp/eligibility.js';
import type { PickExchange } from '../epp/external/pick-exchange.js';
import type { PickerAnswer } from '../epp/external/picker-answer.js';
import { immediateAnswer, type ClientAnswer } from '../epp/external/immediate-answer.js';
import { applyResponseChanges, type ResponseChanges } from '../epp/external/response-changes.js';
import { PickerUnavailable } from '../epp/external/picker-unavailable.js';
import { failureModeOf } from '../epp/failure-mode.js';
import { newSchedulingContext } from '../epp/framework/scheduler.js';
import type { PoolScheduler } from '../epp/pool-schedulers.js';
import { GatewayError } from '../errors.js';
import { forward, type ForwardContext, type ForwardRequest } from './forward.js';
import type { RequestHost } from './request-host.js';
import type { PickOutcome, PickSource } from '../plan/pick-outcome.js';
import type { RoutePlan } from '../plan/plan-request.js';
import type { RequestRecord } from '../observability/request-record.js';
import { admissionHeaders } from '../tenancy/tenancy.js';

/**
 * Asks the pool's external picker, then forwards. Throws GatewayError for the client (503 under FailClose, 503
 * when the pool has no ready endpoint to offer the picker); the handler answers it.
 */
export async function forwardViaExternalPicker(gw: RequestHost, ctx: ForwardContext, plan: RoutePlan, req: ForwardRequest, res: ServerResponse): Promise<void> {
  const ref = plan.externalPicker!;
  const view = plan.view!;
  const { state } = ctx;
  const record = req.record;
  // The subset hint: the pool's endpoints fit to take a request (ready, not held out), whatever model they serve;
  // none is GIE's empty-hint case, answered here as the picker would (503) without asking it.
  const subset = eligibleEndpoints(view, { model: undefined }).map((ep) => ep.address);
  const exchange = gw.externalPickers.open(ref.address, view.key);
  let clientGone = false;
  const onClose = (): void => {
    if (res.writableFinished) return;
    clientGone = true;
    exchange.cancel();
  };
  res.on('close', onClose);
  let answer: PickerAnswer;
  const askedAt = performance.now();
  try {
    answer = await exchange.ask({ method: req.method, path: req.url, authority: plan.headers?.get('host'), headers: req.headers, body: req.body, subset });
  } catch (e) {
    if (clientGone) {
      if (record) record.clientGone = true;
      return;
    }
    if (!(e instanceof PickerUnavailable)) throw e;
    if (record) record.externalPick = { outcome: 'unavailable', seconds: (performance.now() - askedAt) / 1000 };
    return pickerUnavailable(gw, ctx, plan, req, res, e);
  } finally {
    res.off('close', onClose);
  }
  if (record) record.externalPick = { outcome: answer.kind === 'immediate' ? 'immediate' : 'picked', seconds: (performance.now() - askedAt) / 1000 };
  const who = `the endpoint picker of InferencePool ${view.key} (${ref.service})`;
  if (answer.kind === 'immediate') {
    const out = immediateAnswer(answer, who, req.requestId);
    // A refusal no pod served gives the tenant's request back when it ends (tenancy.ts): its headers say so.
    return sendPickerAnswer(res, out, record, admissionHeaders(req.admission, out.status >= 400));
  }
  const endpoints = poolEndpoints(answer.endpoints, view.endpoints);
  if (endpoints.length === 0) {
    exchange.cancel();
    // A pick outside the pool is no decision: the failureMode applies.
    if (record) record.externalPick!.outcome = 'unavailable';
    const list = view.endpoints.map((ep) => ep.address).join(', ') || 'none';
    return pickerUnavailable(gw, ctx, plan, req, res, new PickerUnavailable(`chose ${answer.endpoints.join(',') || 'no endpoint'} (${answer.source}), none of which is a ready endpoint of the pool (${list})`));
  }
  applyRequestChanges(req, answer);
  const sendResponseHeaders = gw.externalPickers.options.responseHeaderMode === 'SEND' && answer.skipResponseHeaders !== true;
  plan.external = new ExternalPicks(endpoints, exchange, state.schedulers.forPool(view.key)!, plan, { who, sendResponseHeaders, record, gatewayHeaders: req.admission?.headers, problem: (kind, problem) => gw.externalPickers.responseProblem(view.key, ref, kind, problem) });
  try {
    await forward(ctx, plan, req, res);
  } finally {
    exchange.end();
  }
}

/**
 * The endpoints the picker chose, in its order, that are endpoints of the pool (anything else is skipped: the
 * gateway sends only to the pool's pods, as the protocol scopes the list to the pool).
 */
function poolEndpoints(chosen: readonly string[], pool: readonly Endpoint[]): Endpoint[] {
  const out: Endpoint[] = [];
  for (const address of chosen) {
    const ep = pool.find((e) => e.address === address);
    if (ep && !out.includes(ep)) out.push(ep);
  }
  return out;
}

/** The picker's header changes and body, as Envoy applies them before the request goes upstream. */
function applyRequestChanges(req: ForwardRequest, answer: Extract<PickerAnswer, { kind: 'route' }>): void {
  for (const name of answer.headers.remove) delete req.headers[name];
  for (const [name, value] of answer.headers.set) {
    // The request line, its length and the connection are the gateway's to set.
    if (name.startsWith(':') || name === 'host' || name === 'content-length' || name === 'transfer-encoding' || name === 'connection') continue;
    req.headers[name] = value;
  }
  if (answer.body !== undefined) req.body = answer.body;
}

/** The picker gave no decision: FailOpen forwards as infergate picks (its scheduler, the same eligible endpoints), FailClose refuses. */
function pickerUnavailable(gw: RequestHost, ctx: ForwardContext, plan: RoutePlan, req: ForwardRequest, res: ServerResponse, e: PickerUnavailable): Promise<void> {
  const ref = plan.externalPicker!;
  const key = plan.view!.key;
  const mode = failureModeOf(plan.view!.pool);
  gw.externalPickers.failed(key, ref, mode, e);
  if (mode === 'FailOpen') return forward(ctx, plan, req, res);
  throw new GatewayError(
    'endpoint_picker_unavailable',
    `the endpoint picker of InferencePool ${key} (${ref.service}, ext_proc at ${ref.address.target}) ${e.message}, and the pool's spec.endpointPickerRef.failureMode is FailClose, so the request is refused. Retry later; set failureMode: FailOpen to send requests to a ready endpoint while the picker is unavailable`,
  );
}

/**
 * The external picker's endpoints as forward's attempts take them: the first not tried yet, then the next
 * (the protocol's fallbacks, tried when one fails before answering). The pool's scheduler gets no hooks: it did
 * not pick (its result lists no profile, so forward's calls to them do nothing).
 */
export class ExternalPicks implements PickSource {
  readonly #endpoints: readonly Endpoint[];
  readonly #exchange: PickExchange;
  readonly #poolScheduler: PoolScheduler;
  readonly #plan: RoutePlan;
  readonly #o: ExternalPicksOptions;

  constructor(endpoints: readonly Endpoint[], exchange: PickExchange, poolScheduler: PoolScheduler, plan: RoutePlan, options: ExternalPicksOptions) {
    this.#endpoints = endpoints;
    this.#exchange = exchange;
    this.#poolScheduler = poolScheduler;
    this.#plan = plan;
    this.#o = options;
  }

  /** The next endpoint of the picker's list not in `tried`; throws once the list is used up (forward then reports every attempt). */
  pick(tried: ReadonlySet<string> | undefined): PickOutcome {
    const endpoint = this.#endpoints.find((ep) => !tried?.has(ep.address));
    if (!endpoint) {
      throw new GatewayError('upstream_unavailable', `every endpoint the endpoint picker of InferencePool ${this.#plan.view!.key} chose was tried (${this.#endpoints.map((ep) => ep.address).join(', ')})`);
    }
    const plan = this.#plan;
    const request = { requestId: plan.requestId ?? '', model: plan.model, priority: plan.priority, prompt: '', header: (name: string) => plan.headers?.get(name) };
    return { endpoint, poolScheduler: this.#poolScheduler, ctx: newSchedulingContext(request, plan.view!.key), result: { endpoint, results: NO_PROFILES } };
  }

  /**
   * The endpoint answered: the picker hears which one served (the protocol's x-gateway-destination-endpoint-served)
   * and its changes to the answer are awaited; one it could not give is logged, and the answer passes unchanged.
   * Undefined when the picker asked not to be sent the response headers: the answer goes on at once.
   */
  answered(statusCode: number, rawHeaders: readonly Buffer[], served: Endpoint): Promise<ResponseChanges> | undefined {
    const o = this.#o;
    if (!o.sendResponseHeaders) {
      if (o.record?.externalPick) o.record.externalPick.response = 'skipped';
      return undefined;
    }
    return this.#exchange.responseStarted(statusCode, rawHeaders, served.address).then((changes) => {
      const pick = o.record?.externalPick;
      if (changes.kind === 'unchanged') {
        // No reason: the request ended first, and nobody waits for the answer.
        if (changes.why === undefined) return changes;
        o.problem('unanswered', `${changes.why}; the answer went to the client unchanged`);
        if (pick) pick.response = 'unanswered';
      } else if (pick) pick.response = changes.kind === 'immediate' ? 'replaced' : 'applied';
      return changes;
    });
  }

  applyChanges(list: string[], changes: Extract<ResponseChanges, { kind: 'headers' }>, status: number): number {
    const applied = applyResponseChanges(list, changes, status);
    if (applied.skipped.length > 0) this.#o.problem('skipped', `asked to change response headers that are the gateway's or not valid HTTP (${applied.skipped.join(', ')}); those changes were skipped`);
    return applied.status;
  }

  replace(res: ServerResponse, changes: Extract<ResponseChanges, { kind: 'immediate' }>, requestId: string): void {
    sendPickerAnswer(res, immediateAnswer(changes, this.#o.who, requestId), this.#o.record, this.#o.gatewayHeaders);
  }
}

/**
 * The picker's own answer to the client (its decision, or in place of the endpoint's), with its error code recorded
 * and the gateway's headers (the tenant's `x-ratelimit-*` with --api-keys), which replace any the picker set of those
 * names: the client's key was counted by this gateway whoever refused it, as on every other answer.
 */
function sendPickerAnswer(res: ServerResponse, out: ClientAnswer, record: RequestRecord | undefined, gatewayHeaders: readonly string[] | undefined): void {
  let headers = out.headers;
  if (gatewayHeaders !== undefined && gatewayHeaders.length > 0) {
    const ours = new Set(gatewayHeaders.filter((_, i) => i % 2 === 0));
    headers = headers.filter((_, i) => !ours.has(headers[i - (i % 2)]!));
    headers.push(...gatewayHeaders);
  }
  res.writeHead(out.status, headers);
  res.end(out.body);
  if (record && out.errorCode !== undefined) record.errorCode = out.errorCode;
}

/** How ExternalPicks reports and answers. */
export interface ExternalPicksOptions {
  /** Names the picker in its replaced answer's message. */
  who: string;
  /** False when the picker is not to get the response headers (--epp-response-header-mode skip, its mode_override). */
  sendResponseHeaders: boolean;
  /** The request's record, when observed: its `externalPick` gets the answer to the response headers. */
  record: RequestRecord | undefined;
  /** The gateway's own headers on the picker's replacing answer (the tenant's `x-ratelimit-*`), as a flat list. */
  gatewayHeaders: readonly string[] | undefined;
  /** Logs what could not be applied (throttled per pool and kind). */
  problem: (kind: 'unanswered' | 'skipped', problem: string) => void;
}

const NO_PROFILES = new Map();
