/** The gateway's own `GET /v1/models` and `GET /v1/models/{id}`: every model any pool serves, adapters with their `parent`. */
import { isServable, lookupBaseModel, unknownModelError } from '../bbr/resolve-base-model.js';
import { MethodNotAllowed } from '../errors.js';
import type { GatewayState } from '../plan/plan-request.js';

export type ModelCardBody = { id: string; object: 'model'; created: number; owned_by: string; root: string; parent: string | null; max_model_len?: number };

export interface ModelListing {
  object: 'list';
  data: ModelCardBody[];
}

/** What pods serve, as vLLM lists it; under --strict-allowlist only what a ConfigMap also names (the 404's "Served models"). */
export function listModels(state: GatewayState): ModelListing {
  const catalog = state.datastore.catalog();
  const created = Math.floor(Date.now() / 1000);
  const data: ModelListing['data'] = [];
  for (const id of catalog.models.keys()) {
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
export function retrieveModel(state: GatewayState, encodedId: string, visible?: (model: string) => boolean): ModelCardBody {
  const id = decodedModelId(encodedId);
  const card = modelCard(state, id, Math.floor(Date.now() / 1000));
  if (card) return card;
  const catalog = state.datastore.catalog();
  throw unknownModelError(id, state.snapshot.allowlistTable, catalog, state.strictAllowlist, visible);
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
