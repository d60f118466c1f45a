/** Picks the endpoint of a pool for one request: only endpoints serving the model, then least in-flight. */
import { GatewayError } from '../errors.js';
import type { PoolView } from './datastore/datastore.js';
import type { Endpoint } from './datastore/endpoint.js';

export interface PickRequest {
  /** The model as sent (a base model or an adapter); undefined for requests without a body model. */
  model: string | undefined;
  /** Endpoints already tried by this request (failover): never picked twice. */
  exclude?: ReadonlySet<string>;
  now?: number;
  random?: () => number;
  /** Record every endpoint's verdict in the result (for `explain`); off on the data path. */
  trace?: boolean;
}

export interface CandidateVerdict {
  address: string;
  pod: string;
  inFlight: number;
  /** Why the endpoint was not eligible; undefined when it was. */
  excluded?: string;
}

export interface PickResult {
  endpoint: Endpoint;
  /** Every endpoint's verdict; only computed when the request asked for a `trace`. */
  candidates?: CandidateVerdict[];
}

/** Thrown when nothing is eligible; carries every candidate's verdict so `explain` can show them. */
export class NoEndpointError extends GatewayError {
  readonly candidates: CandidateVerdict[];
  constructor(message: string, candidates: CandidateVerdict[]) {
    super('no_healthy_endpoint', message);
    this.candidates = candidates;
  }
}

/**
 * Filters the pool to endpoints that serve the model (the fix for the report's mixed pool, where a
 * model-blind pick failed 40-60% of requests), are not already tried, and are not held out after a
 * connection failure; then picks the least in-flight, ties broken at random so equal pods share load.
 * Throws 503 `no_healthy_endpoint` naming the pool and every reason when nothing is eligible.
 */
export function pickEndpoint(view: PoolView, req: PickRequest): PickResult {
  const now = req.now ?? Date.now();
  const random = req.random ?? Math.random;
  // Hot path: one pass, no allocation. Verdicts are only written out for `trace` or for the 503 message.
  let best: Endpoint | undefined;
  let min = Infinity;
  let ties = 0;
  let soonest: Endpoint | undefined;
  for (const ep of view.endpoints) {
    if (req.exclude?.has(ep.address)) continue;
    if (req.model !== undefined && ep.serves(req.model) !== true) continue;
    if (ep.inBackoff(now)) {
      if (!soonest || ep.backoffUntil < soonest.backoffUntil) soonest = ep;
      continue;
    }
    if (ep.inFlight < min) {
      min = ep.inFlight;
      best = ep;
      ties = 1;
    } else if (ep.inFlight === min && random() * ++ties >= ties - 1) {
      // Reservoir sampling: the k-th tie replaces the pick with probability 1/k, so each of the k tied
      // endpoints ends up chosen with probability 1/k (random() near 0 keeps the first, near 1 the last).
      best = ep;
    }
  }
  // Rather than fail while every server that could serve is in backoff, try the one whose backoff ends first:
  // a single-replica pool recovers on the next request instead of after the backoff.
  const endpoint = best ?? soonest;
  if (!endpoint) throw noEndpointError(view, req.model, judgeCandidates(view, req, now));
  const result: PickResult = { endpoint };
  if (req.trace) {
    result.candidates = judgeCandidates(view, req, now);
    const v = result.candidates.find((c) => c.address === endpoint.address);
    if (v) v.excluded = undefined;
  }
  return result;
}

/** Every endpoint's verdict, for `explain` and error messages (the same rules as the pick's loop). */
export function judgeCandidates(view: PoolView, req: PickRequest, now = Date.now()): CandidateVerdict[] {
  return view.endpoints.map((ep) => {
    const v: CandidateVerdict = { address: ep.address, pod: ep.podKey, inFlight: ep.inFlight };
    if (req.exclude?.has(ep.address)) v.excluded = 'already tried by this request';
    else if (req.model !== undefined && ep.serves(req.model) !== true) v.excluded = servesReason(ep, req.model);
    else if (ep.inBackoff(now)) v.excluded = `held out for ${ep.backoffUntil - now} ms after a connection failure`;
    return v;
  });
}

function servesReason(ep: Endpoint, model: string): string {
  if (!ep.models) return `has not answered GET /v1/models yet${ep.modelsError ? ` (${ep.modelsError})` : ''}`;
  const list = [...ep.models.keys()];
  return `does not serve \`${model}\` (serves ${list.length > 0 ? list.join(', ') : 'nothing'})`;
}

function noEndpointError(view: PoolView, model: string | undefined, candidates: CandidateVerdict[]): GatewayError {
  const reasons = [
    ...view.excluded.map((m) => `pod ${m.pod.meta.namespace}/${m.pod.meta.name}: ${m.excluded ?? 'excluded'}`),
    ...candidates.map((c) => `${c.address} (pod ${c.pod}): ${c.excluded ?? 'excluded'}`),
  ];
  const what = model === undefined ? 'this request' : `model \`${model}\``;
  const why = reasons.length === 0 ? `the pool selects no pods (selector ${JSON.stringify(view.pool.selector)} in namespace ${view.pool.meta.namespace})` : reasons.slice(0, 10).join('; ');
  return new NoEndpointError(`no endpoint of InferencePool ${view.key} can take ${what}: ${why}`, candidates);
}
