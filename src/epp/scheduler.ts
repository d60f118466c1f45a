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
  candidates: CandidateVerdict[];
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
  const candidates: CandidateVerdict[] = [];
  const eligible: Endpoint[] = [];
  const backedOff: Endpoint[] = [];
  for (const ep of view.endpoints) {
    const v: CandidateVerdict = { address: ep.address, pod: ep.podKey, inFlight: ep.inFlight };
    candidates.push(v);
    if (req.exclude?.has(ep.address)) v.excluded = 'already tried by this request';
    else if (req.model !== undefined && ep.serves(req.model) !== true) v.excluded = servesReason(ep, req.model);
    else if (ep.inBackoff(now)) {
      v.excluded = `held out for ${ep.backoffUntil - now} ms after a connection failure`;
      backedOff.push(ep);
    } else eligible.push(ep);
  }
  // Rather than fail while every server that could serve is in backoff, try the one whose backoff ends first:
  // a single-replica pool recovers on the next request instead of after the backoff.
  if (eligible.length === 0 && backedOff.length > 0) {
    const soonest = backedOff.reduce((a, b) => (b.backoffUntil < a.backoffUntil ? b : a));
    eligible.push(soonest);
    const v = candidates.find((c) => c.address === soonest.address);
    if (v) v.excluded = undefined;
  }
  if (eligible.length === 0) throw noEndpointError(view, req.model, candidates);
  let best: Endpoint[] = [];
  let min = Infinity;
  for (const ep of eligible) {
    if (ep.inFlight < min) {
      min = ep.inFlight;
      best = [ep];
    } else if (ep.inFlight === min) best.push(ep);
  }
  const endpoint = best[Math.floor(random() * best.length)] ?? best[0]!;
  return { endpoint, candidates };
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
