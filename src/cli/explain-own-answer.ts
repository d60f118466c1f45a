/**
 * The requests `serve` answers itself before any body-based routing or route (src/proxy/handler.ts): its health
 * and readiness, the model list and cards, and what it refuses outright (an admin path, a method under
 * /v1/models). explain says so, through the same functions, instead of routing them to a 404 serve never gives.
 */
import { GatewayError } from '../errors.js';
import type { AdminPathPolicy } from '../policy/admin-paths.js';
import { isModelsPath, listModels, modelsMethodNotAllowed, retrieveModel } from '../proxy/list-models.js';
import type { GatewayState, IncomingRequest, RoutePlan } from '../plan/plan-request.js';

/** Models named in a step before the rest are counted: a fleet may serve hundreds. */
const MAX_NAMED = 10;

/**
 * The plan of a request the gateway answers itself, in the order the server checks them; undefined for a request
 * it routes. A refusal is the plan's error, with the body a client would get.
 */
export function planOwnAnswer(state: GatewayState, req: IncomingRequest, adminPaths: AdminPathPolicy): RoutePlan | undefined {
  const plan: RoutePlan = { steps: [], routingHeaders: {}, priority: 0, headers: req.headers, tracing: true };
  const own = (detail: string): RoutePlan => {
    plan.steps.push({ stage: 'route', detail: `none: ${req.method} ${req.path} is answered by the gateway itself, not routed to a pool: ${detail}` });
    return plan;
  };
  const isGet = req.method === 'GET' || req.method === 'HEAD';
  if (isGet && req.path === '/healthz') return own('200 {"status":"ok"}, its liveness');
  if (isGet && req.path === '/readyz') return own('200 {"status":"ready","config_version":N} while a configuration is in force, its readiness; 503 before one is, and while it shuts down');
  try {
    adminPaths.check(req.path);
    if (!isModelsPath(req.path)) return undefined;
    if (!isGet) throw modelsMethodNotAllowed(req.method, req.path);
    if (req.path === '/v1/models' || req.path === '/v1/models/') {
      const ids = listModels(state, req.host).data.map((m) => m.id);
      const named = ids.slice(0, MAX_NAMED).join(', ') + (ids.length > MAX_NAMED ? `, and ${ids.length - MAX_NAMED} more` : '');
      return own(`200, the ${ids.length} model(s) the routed pools' endpoints serve${ids.length > 0 ? ` (${named})` : ''}, adapters with their parent`);
    }
    const card = retrieveModel(state, req.path.slice('/v1/models/'.length), undefined, req.host);
    return own(`200, the card of ${card.id}${card.parent !== null ? `, an adapter of ${card.parent}` : ''}`);
  } catch (e) {
    if (!(e instanceof GatewayError)) throw e;
    plan.error = e;
    return plan;
  }
}
