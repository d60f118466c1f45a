/** Which endpoints of a pool may take a request at all (model served, not tried, not held out or ejected), and why not. */
import { GatewayError, RETRY_AFTER_SECONDS, type RetryAdvice } from '../errors.js';
import type { PoolView } from './datastore/datastore.js';
import type { Endpoint } from './datastore/endpoint.js';
import { UNREPORTED_GRACE_MS, unreportedRequests } from '../upstream/in-flight.js';

export interface PickRequest {
  /** The model as sent (a base model or an adapter); undefined for requests without a body model. */
  model: string | undefined;
  /** Endpoints already tried by this request (failover): never picked twice. */
  exclude?: ReadonlySet<string>;
  now?: number;
  /**
   * False where nothing asks the pods what they serve (`explain --no-discover`): an endpoint that has not
   * answered GET /v1/models never will, so a 503 says discovery is off rather than advising a retry.
   */
  discovery?: boolean;
}

export interface CandidateVerdict {
  address: string;
  pod: string;
  inFlight: number;
  /** Why the endpoint was not eligible; undefined when it was. */
  excluded?: string;
}

/** Thrown when nothing is eligible; carries every candidate's verdict so `explain` can show them. */
export class NoEndpointError extends GatewayError {
  readonly candidates: CandidateVerdict[];
  constructor(message: string, candidates: CandidateVerdict[], retry?: RetryAdvice) {
    super('no_healthy_endpoint', message, null, retry);
    this.candidates = candidates;
  }
}

/**
 * The endpoints of a pool a request may go to, before any scoring: those that serve its model (the fix for
 * the report's mixed pool, where a model-blind pick failed 40-60% of requests), that this request has not
 * tried already, that do not refuse the gateway's API key (a 401 or 403 on GET /v1/models), that are not held out after a connection failure, that outlier detection has not ejected,
 * and that do not hold requests they neither answer nor report (an endpoint that accepts connections and
 * answers nothing, while its /metrics look idle, is left out about a second after such a request, long
 * before any timeout: no scorer weight, prefix affinity included, can pull traffic back to it). When every
 * serving endpoint is held out, the ejected and unresponsive ones are candidates again (Envoy's panic
 * routing: better a suspect endpoint than none), else the one whose backoff ends first, so a
 * single-replica pool recovers on the next request.
 * Returns `view.endpoints` itself when nothing is excluded (no allocation on the common path).
 * Throws 503 `no_healthy_endpoint` naming the pool and every endpoint's reason when nothing is eligible.
 */
export function eligibleEndpoints(view: PoolView, req: PickRequest): readonly Endpoint[] {
  const now = req.now ?? Date.now();
  const all = view.endpoints;
  let out: Endpoint[] | undefined;
  let soonest: Endpoint | undefined;
  let suspect = 0;
  for (let i = 0; i < all.length; i++) {
    const ep = all[i]!;
    const why = exclusion(ep, req, now);
    if (why === 'backoff' && (!soonest || ep.backoffUntil < soonest.backoffUntil)) soonest = ep;
    else if (why === 'ejected' || why === 'unresponsive') suspect++;
    if (why !== undefined && !out) out = all.slice(0, i);
    else if (why === undefined && out) out.push(ep);
  }
  const eligible = out ?? all;
  if (eligible.length > 0) return eligible;
  if (suspect > 0) return all.filter((ep) => isSuspect(exclusion(ep, req, now)));
  if (soonest) return [soonest];
  throw noEndpointError(view, req, now, judgeCandidates(view, req, now));
}

/** Every endpoint's verdict, for `explain` and error messages, by the rules the pick applies (`exclusion`). */
export function judgeCandidates(view: PoolView, req: PickRequest, now = Date.now()): CandidateVerdict[] {
  return view.endpoints.map((ep) => {
    const v: CandidateVerdict = { address: ep.address, pod: ep.podKey, inFlight: ep.inFlight };
    const why = exclusion(ep, req, now);
    if (why === 'tried') v.excluded = 'already tried by this request';
    else if (why === 'refused') v.excluded = ep.modelsError ?? `GET /v1/models answered ${ep.modelsRefused}`;
    else if (why === 'unserved') v.excluded = servesReason(ep, req.model ?? '');
    else if (why === 'backoff') v.excluded = `held out for ${ep.backoffUntil - now} ms after a connection failure`;
    else if (why === 'ejected') v.excluded = ejectedReason(ep, now);
    else if (why === 'unresponsive') v.excluded = unresponsiveReason(ep);
    return v;
  });
}

/** Why `ep` may not take the request, the first rule that excludes it; undefined when it may. */
function exclusion(ep: Endpoint, req: PickRequest, now: number): Exclusion | undefined {
  if (req.exclude?.has(ep.address)) return 'tried';
  // A pod that refuses the gateway's key on GET /v1/models refuses it on requests too (vLLM guards all of /v1).
  if (ep.modelsRefused !== 0) return 'refused';
  // One that answers GET /v1/models without a list cannot say what it serves: it takes any model (GIE's EPP's way).
  if (req.model !== undefined && !ep.modelsUnlisted && ep.serves(req.model) !== true) return 'unserved';
  if (ep.inBackoff(now)) return 'backoff';
  if (ep.outlier.isEjected(now)) return 'ejected';
  if (unreportedRequests(ep) > 0) return 'unresponsive';
  return undefined;
}

type Exclusion = 'tried' | 'refused' | 'unserved' | 'backoff' | 'ejected' | 'unresponsive';

/** Held out on suspicion of its health, not for a fact about this request: the panic fallback takes these. */
function isSuspect(why: Exclusion | undefined): boolean {
  return why === 'ejected' || why === 'unresponsive';
}

function unresponsiveReason(ep: Endpoint): string {
  const m = ep.metrics!;
  return `holds ${unreportedRequests(ep)} request(s), sent at least ${UNREPORTED_GRACE_MS} ms before its last /metrics scrape, that it has not answered and does not count (it reports running ${m.runningQueueSize}, waiting ${m.waitingQueueSize})`;
}

function ejectedReason(ep: Endpoint, now: number): string {
  const e = ep.outlier.ejection!;
  const left = ((e.until - now) / 1000).toFixed(1);
  return `ejected by outlier detection for ${left} s more (${e.type}: ${e.detail}${e.multiplier > 1 ? `; ejection ${e.multiplier} in a row` : ''})`;
}

function servesReason(ep: Endpoint, model: string): string {
  // A protocol mismatch is why discovery fails, and what to fix: say that, not that discovery failed.
  if (!ep.models && ep.protocolMismatch !== undefined) return ep.protocolMismatch;
  if (!ep.models) return `has not answered GET /v1/models yet${ep.modelsError ? ` (${ep.modelsError})` : ''}`;
  const list = [...ep.models.keys()];
  return `does not serve \`${model}\` (serves ${list.length > 0 ? list.join(', ') : 'nothing'})`;
}

function noEndpointError(view: PoolView, req: PickRequest, now: number, candidates: CandidateVerdict[]): GatewayError {
  const model = req.model;
  const reasons = [
    ...view.excluded.map((m) => `pod ${m.pod.meta.namespace}/${m.pod.meta.name}: ${m.excluded ?? 'excluded'}`),
    ...candidates.map((c) => `${c.address} (pod ${c.pod}): ${c.excluded ?? 'excluded'}`),
  ];
  const what = model === undefined ? 'this request' : `model \`${model}\``;
  const why = reasons.length === 0 ? `the pool selects no pods (selector ${JSON.stringify(view.pool.selector)} in namespace ${view.pool.meta.namespace})` : reasons.slice(0, 10).join('; ');
  const message = `no endpoint of InferencePool ${view.key} can take ${what}: ${why}`;
  const outlook = retryOutlook(view, req, now);
  if (outlook === 'wait' && req.discovery === false) {
    return new NoEndpointError(`${message}. Discovery is off (--no-discover): no pod is asked GET /v1/models, so models come from allowlist ConfigMaps only and no endpoint is known to serve one`, candidates);
  }
  if (outlook === 'wait') return new NoEndpointError(`${message}. Retry shortly: pods of the pool are still starting, or have not said what they serve yet`, candidates, RETRY_AFTER_SECONDS);
  if (outlook === 'unserved' && model !== undefined) {
    return new NoEndpointError(
      `no pod of InferencePool ${view.key} serves model \`${model}\`, so a retry will not help: the model is declared (an allowlist ConfigMap or an InferenceModelRewrite names it) but no pod lists it in GET /v1/models. Serve it (vLLM --lora-modules, or POST /v1/load_lora_adapter on a pod) or stop declaring it. Endpoints: ${why}`,
      candidates,
      false,
    );
  }
  return new NoEndpointError(message, candidates);
}

/**
 * Whether waiting can make an endpoint eligible, by the pick's own rules: `wait` when a selected pod is not
 * Ready (or has no IP) yet, or an endpoint has not answered GET /v1/models yet; `unserved` when every
 * endpoint has said what it serves and none serves the model, which only a change of what the pods serve
 * fixes; undefined otherwise (an empty pool, a refused API key: configuration to fix, no advice either way).
 */
function retryOutlook(view: PoolView, req: PickRequest, now: number): 'wait' | 'unserved' | undefined {
  if (view.excluded.length > 0) return 'wait';
  let unserved = 0;
  for (const ep of view.endpoints) {
    const why = exclusion(ep, req, now);
    if (why === undefined || why === 'tried') continue;
    if (why !== 'unserved') return why === 'refused' ? undefined : 'wait';
    // Not said yet, unless it cannot be asked at all (a protocol mismatch is configuration to fix).
    if (!ep.models) return ep.protocolMismatch === undefined ? 'wait' : undefined;
    unserved++;
  }
  return unserved > 0 ? 'unserved' : undefined;
}
