/**
 * The gateway's own `GET /v1/models` and `GET /v1/models/{id}`: every model served by the endpoints of the
 * InferencePools an HTTPRoute sends to, adapters with their `parent`.
 */
import { isServable, lookupBaseModel, unknownModelError } from '../bbr/resolve-base-model.js';
import { GatewayError, MethodNotAllowed, shown } from '../errors.js';
import type { GatewayState } from '../plan/plan-request.js';
import { routedModels } from '../plan/routed-models.js';

export type ModelCardBody = { id: string; object: 'model'; created: number; owned_by: string; root: string; parent: string | null; max_model_len?: number };

export interface ModelListing {
  object: 'list';
  data: ModelCardBody[];
}

/**
 * What pods serve, as vLLM lists it; under --strict-allowlist only what a ConfigMap also names (the 404's "Served
 * models"). Only the models of pools that the HTTPRoutes accepting `host` (the request's Host) send to: a pool no
 * route reaches (not yet routed, or routed by another Gateway's routes under --gateway-name) serves nobody here,
 * and a client that picked its model from the list would get 404 route_not_found.
 */
export function listModels(state: GatewayState, host?: string): ModelListing {
  const catalog = state.datastore.catalog();
  const reached = routedModels(state, host);
  const created = Math.floor(Date.now() / 1000);
  const data: ModelListing['data'] = [];
  for (const id of catalog.models.keys()) {
    if (!reached.has(id)) continue;
    const card = modelCard(state, id, created);
    if (card) data.push(card);
  }
  data.sort((a, b) => a.id.localeCompare(b.id));
  return { object: 'list', data };
}

/**
 * `GET /v1/models/{id}` (the openai SDK's `models.retrieve`): the card `GET /v1/models` lists for it, or the
 * 404 model_not_found a request for it would get, which lists the served models. `id` is the path's
 * remainder, percent-decoded (the SDK encodes the `/` of `org/model`; a raw `/` works too).
 */
export function retrieveModel(state: GatewayState, encodedId: string, visible?: (model: string) => boolean, host?: string): ModelCardBody {
  const id = decodedModelId(encodedId);
  const card = modelCard(state, id, Math.floor(Date.now() / 1000));
  const catalog = state.datastore.catalog();
  const reached = routedModels(state, host);
  if (card && reached.has(id)) return card;
  // The Host is worth naming only where some route limits itself to hostnames.
  const hostMatters = state.snapshot.routeTable.entries.some((e) => e.route.hostnames.length > 0);
  if (card && (!visible || visible(id))) throw unroutedModelError(id, catalog.models.get(id)?.pods ?? [], hostMatters ? host : undefined);
  throw unknownModelError(id, state.snapshot.allowlistTable, catalog, state.strictAllowlist, visible, (m) => reached.has(m));
}

/** The 404 for a model that pods serve, in pools no HTTPRoute this gateway serves (for this Host) sends to. */
function unroutedModelError(id: string, pods: readonly string[], host: string | undefined): GatewayError {
  const more = pods.length > 1 ? ` (+${pods.length - 1} more)` : '';
  return new GatewayError(
    'model_not_found',
    `model \`${shown(id)}\` is served by pod ${pods[0] ?? '(unknown)'}${more}, but no HTTPRoute this gateway serves${host !== undefined ? ` for Host ${shown(host)}` : ''} sends requests to an InferencePool selecting it, so it is not listed and requests for it get 404 route_not_found. Add an HTTPRoute rule whose backendRef is that pod's InferencePool`,
    'model',
  );
}

/** Whether `path` is the model list or a model card, which the gateway answers itself and never routes. */
export function isModelsPath(path: string): boolean {
  return path === '/v1/models' || path.startsWith('/v1/models/');
}

/**
 * The 405 for any method but GET and HEAD under /v1/models. Routed on, a POST named no model (400) and a
 * DELETE (the SDK's models.delete) matched no rule (404 about header matches); vLLM answers 405 to both.
 */
export function modelsMethodNotAllowed(method: string, path: string): MethodNotAllowed {
  return new MethodNotAllowed(`${method} ${path} is not served: the gateway answers GET /v1/models and GET /v1/models/{model} itself, and nothing else under /v1/models`, 'GET, HEAD');
}

/** The model id a `GET /v1/models/{id}` path names: percent-decoded, or as sent when that fails. */
export function decodedModelId(encodedId: string): string {
  try {
    return decodeURIComponent(encodedId);
  } catch {
    return encodedId;
  }
}

/** The card of one served model; undefined when no pod serves it or --strict-allowlist leaves it out. */
function modelCard(state: GatewayState, id: string, created: number): ModelCardBody | undefined {
  const catalog = state.datastore.catalog();
  const entry = catalog.models.get(id);
  if (!entry || !isServable(id, state.snapshot.allowlistTable, state.strictAllowlist)) return undefined;
  // ConfigMaps win over what pods report (REFERENCE §1): show the parent requests will be routed by.
  const r = lookupBaseModel(id, state.snapshot.allowlistTable, catalog, state.strictAllowlist);
  if (!r) return undefined;
  const parent = r.isAdapter ? r.baseModel : null;
  const card: ModelCardBody = { id, object: 'model', created, owned_by: entry.card.owned_by ?? 'vllm', root: entry.card.root ?? id, parent };
  if (entry.card.max_model_len !== undefined) card.max_model_len = entry.card.max_model_len;
  return card;
}
