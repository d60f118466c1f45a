/**
 * The body-based router as an ext_proc processor: reads `model`, sets X-Gateway-Model-Name and
 * X-Gateway-Base-Model-Name (removing copies the client sent) and asks Envoy to match routes again.
 * The decision is planRoute's BBR stage, so the errors are the standalone gateway's (400, 404).
 */
import { BASE_MODEL_NAME_HEADER, MODEL_NAME_HEADER } from '../bbr/routing-headers.js';
import { modelFieldProblem } from '../bbr/extract-model.js';
import type { BbrMetrics } from '../observability/metrics/bbr-metrics.js';
import { GatewayError } from '../errors.js';
import { planRoute, type GatewayState } from '../plan/plan-request.js';
import { incomingRequest, spoofedHeaders } from './incoming-request.js';
import type { Exchange, Processor, ProcessedRequest, RequestVerdict } from './processor.js';
import { NO_HEADER_CHANGES, hasChanges, type HeaderChanges } from '../envoy/header-map.js';

const isModelHeader = (name: string): boolean => name === MODEL_NAME_HEADER || name === BASE_MODEL_NAME_HEADER;

export class BbrProcessor implements Processor {
  readonly name = 'bbr';
  readonly #state: () => GatewayState | undefined;
  readonly #metrics: BbrMetrics | undefined;

  /** `metrics`: GIE's `bbr_*` counters (success, body field not found or empty). */
  constructor(state: () => GatewayState | undefined, metrics?: BbrMetrics) {
    this.#state = state;
    this.#metrics = metrics;
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
    const plan = planRoute(state, incomingRequest(req.headers, req.body, req.parsedBody), { bbrOnly: true });
    const problem = modelFieldProblem(plan.error);
    if (problem) this.#metrics?.modelField(problem);
    else if (plan.model !== undefined) this.#metrics?.succeeded();
    if (plan.error) return { kind: 'reject', error: plan.error };
    const set = plan.routingHeaders;
    const headers: HeaderChanges = { set, remove: spoofedHeaders(req.headers, set, isModelHeader) };
    return { kind: 'continue', headers, ...(plan.body ? { body: plan.body } : {}), clearRouteCache: hasChanges(headers) };
  }
}
