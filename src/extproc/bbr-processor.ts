/**
 * The body-based router as an ext_proc processor: reads `model`, sets X-Gateway-Model-Name and
 * X-Gateway-Base-Model-Name (removing copies the client sent) and asks Envoy to match routes again.
 * The decision is planRoute's BBR stage, so the errors are the standalone gateway's (400, 404).
 */
import { BASE_MODEL_NAME_HEADER, MODEL_NAME_HEADER } from '../bbr/routing-headers.js';
import { GatewayError } from '../errors.js';
import { planRoute, type GatewayState } from '../proxy/plan-request.js';
import { compileRoutes, type RouteTable } from '../route/route-table.js';
import { incomingRequest, spoofedHeaders } from './incoming-request.js';
import type { Exchange, Processor, ProcessedRequest, RequestVerdict } from './processor.js';
import { NO_HEADER_CHANGES } from './header-map.js';

const EMPTY_ROUTES: RouteTable = compileRoutes([]);

const isModelHeader = (name: string): boolean => name === MODEL_NAME_HEADER || name === BASE_MODEL_NAME_HEADER;

export class BbrProcessor implements Processor {
  readonly name = 'bbr';
  readonly #state: () => GatewayState | undefined;
  /** The state with no HTTPRoutes: planRoute then stops after BBR (route matching is Envoy's job here). */
  readonly #bbrOnly = new WeakMap<GatewayState, GatewayState>();

  constructor(state: () => GatewayState | undefined) {
    this.#state = state;
  }

  begin(): Exchange {
    return {
      decide: (req) => this.#decide(req),
      responseHeaders: () => NO_HEADER_CHANGES,
      finish: () => undefined,
    };
  }

  #decide(req: ProcessedRequest): RequestVerdict {
    const state = this.#state();
    if (!state) return { kind: 'reject', error: new GatewayError('not_ready', 'the body-based router has no configuration in force yet; retry shortly') };
    let bbrState = this.#bbrOnly.get(state);
    if (!bbrState) {
      bbrState = { ...state, snapshot: { ...state.snapshot, routeTable: EMPTY_ROUTES } };
      this.#bbrOnly.set(state, bbrState);
    }
    const plan = planRoute(bbrState, incomingRequest(req.headers, req.body));
    // With no routes every request that passed BBR ends in route_not_found: that one is expected.
    if (plan.error && plan.error.code !== 'route_not_found') return { kind: 'reject', error: plan.error };
    const set = plan.routingHeaders;
    const remove = spoofedHeaders(req.headers, set, isModelHeader);
    const changed = remove.length > 0 || Object.keys(set).length > 0;
    return { kind: 'continue', headers: { set, remove }, ...(plan.body ? { body: plan.body } : {}), clearRouteCache: changed };
  }
}
