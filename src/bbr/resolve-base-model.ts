/** Maps the requested model to its base model: allowlist ConfigMaps first, then what the pods report. */
import { ALLOWLIST_LABEL_HINT } from '../api/allowlist.js';
import type { ModelCatalog } from './model-catalog.js';
import { GatewayError, shown } from '../errors.js';
import type { AllowlistTable } from './allowlist-table.js';

export interface BaseModelResolution {
  model: string;
  baseModel: string;
  isAdapter: boolean;
  /** Where the mapping came from, e.g. `ConfigMap default/gemma-allowlist` or `GET /v1/models of pod default/gemma-0`. */
  source: string;
}

/**
 * GIE's lookup (adapter -> its base; base -> itself; else unknown), over the union of the ConfigMaps and the
 * pods' own `/v1/models` (an adapter's `parent`), ConfigMaps winning on conflict. The union is why a missing
 * allowlist ConfigMap no longer turns into Envoy's bare 404 "fault filter abort". `strict` uses the
 * ConfigMaps alone, as GIE does. Undefined when the model is unknown: no error is built, so callers with a
 * fallback (model aliases, the model listing) pay nothing for a miss.
 */
export function lookupBaseModel(model: string, table: AllowlistTable, catalog: ModelCatalog, strict: boolean): BaseModelResolution | undefined {
  const adapter = table.adapters.get(model);
  if (adapter) return { model, baseModel: adapter.base, isAdapter: true, source: adapter.origin };
  const base = table.bases.get(model);
  if (base) return { model, baseModel: model, isAdapter: false, source: base.join(', ') };
  const entry = catalog.models.get(model);
  if (!entry || strict) return undefined;
  const via = `GET /v1/models of pod ${entry.pods[0]}${entry.pods.length > 1 ? ` (+${entry.pods.length - 1} more)` : ''}`;
  if (entry.card.parent) return { model, baseModel: entry.card.parent, isAdapter: true, source: via };
  return { model, baseModel: model, isAdapter: false, source: via };
}

/** lookupBaseModel, or the 404 that lists the served models and says how to serve this one. */
export function resolveBaseModel(model: string, table: AllowlistTable, catalog: ModelCatalog, strict: boolean): BaseModelResolution {
  const found = lookupBaseModel(model, table, catalog, strict);
  if (found) return found;
  throw unknownModelError(model, table, catalog, strict);
}

/**
 * The 404 for a model no ConfigMap and no pod knows: it lists what can be served (exactly what GET /v1/models
 * lists) and, apart, the names allowlist ConfigMaps declare that no pod serves (requests for those get a 503).
 * `visible` narrows both lists to what the asking API key may use, as its GET /v1/models is (src/tenancy): a
 * tenant's 404 does not name the other tenants' models. `reachable`, when given, narrows the served ones to those
 * the HTTPRoutes reach (src/plan/routed-models.ts), as GET /v1/models is.
 */
export function unknownModelError(model: string, table: AllowlistTable, catalog: ModelCatalog, strict: boolean, visible?: (model: string) => boolean, reachable?: (model: string) => boolean): GatewayError {
  const claims = table.conflicts?.get(model);
  // Declared, but by ConfigMaps that disagree on its base: "in no allowlist ConfigMap" would send the user looking
  // for a missing ConfigMap instead of the two that conflict.
  if (claims && (!visible || visible(model))) {
    return new GatewayError(
      'model_not_found',
      `model \`${shown(model)}\` is claimed as an adapter of different base models by allowlist ConfigMaps (${claims.join('; ')}); an adapter has exactly one base model, so it is not routed by the ConfigMaps until all but one of them drop it${strict ? ' (--strict-allowlist is set, so what the pods report does not route it either)' : ''}`,
      'model',
    );
  }
  const entry = catalog.models.get(model);
  if (entry && strict) {
    const allowlisted = servedModels(table, catalog, strict);
    const list = allowlisted.length > 0 ? allowlisted.join(', ') : '(none: no allowlist ConfigMap is loaded)';
    return new GatewayError(
      'model_not_found',
      `model \`${shown(model)}\` is served by pod ${entry.pods[0]} but is in no allowlist ConfigMap, and --strict-allowlist is set. Add it to ${ALLOWLIST_LABEL_HINT}. Allowlisted models: ${list}`,
      'model',
    );
  }
  const servable = reachable ? servableModels(table, catalog, strict).filter(reachable) : servableModels(table, catalog, strict);
  const served = visible ? servable.filter(visible) : servable;
  const declared = visible ? declaredOnlyModels(table, catalog).filter(visible) : declaredOnlyModels(table, catalog);
  const none = declared.length > 0 ? '(none: no pod serves a declared model)' : strict ? '(none: no allowlist ConfigMap is loaded)' : '(none: no allowlist ConfigMap and no pod has answered GET /v1/models)';
  const list = served.length > 0 ? served.join(', ') : none;
  const declaredNote = declared.length > 0 ? ` Declared in allowlist ConfigMaps but not served by any pod: ${declared.join(', ')}.` : '';
  return new GatewayError(
    'model_not_found',
    `model \`${shown(model)}\` is not served here. Served models: ${list}.${declaredNote} To serve it, run a pod that lists it in GET /v1/models and is selected by an InferencePool that an HTTPRoute reaches${strict ? `, and name it in ${ALLOWLIST_LABEL_HINT}` : ''}.${refusedNote(catalog)}${mismatchNote(catalog)}`,
    'model',
  );
}

/** Pods that would not say what they serve (401/403 on GET /v1/models): the model may be theirs. */
function refusedNote(catalog: ModelCatalog): string {
  const refused = [...(catalog.refused ?? [])].sort((a, b) => (a.pod < b.pod ? -1 : 1));
  if (refused.length === 0) return '';
  const shown = refused.slice(0, 3).map((r) => `pod ${r.pod}: ${r.message}`);
  const more = refused.length > 3 ? `; and ${refused.length - 3} more` : '';
  return ` ${refused.length} pod(s) did not say what they serve, for want of the right API key: ${shown.join('; ')}${more}`;
}

/** Endpoints that speak another protocol than their pool's appProtocol: the model may be theirs. */
function mismatchNote(catalog: ModelCatalog): string {
  const list = [...(catalog.mismatched ?? [])].sort((a, b) => (a.address < b.address ? -1 : 1));
  if (list.length === 0) return '';
  const shown = list.slice(0, 3).map((m) => `${m.address} (pod ${m.pod}): ${m.message}`);
  const more = list.length > 3 ? `; and ${list.length - 3} more` : '';
  return ` ${list.length} endpoint(s) could not say what they serve because they speak another HTTP version than their InferencePool's appProtocol: ${shown.join('; ')}${more}`;
}

/** Every model name a client may send (declared or served), sorted. */
export function servedModels(table: AllowlistTable, catalog: ModelCatalog, strict: boolean): string[] {
  const names = new Set<string>([...table.bases.keys(), ...table.adapters.keys()]);
  if (!strict) for (const id of catalog.models.keys()) names.add(id);
  return [...names].sort();
}

/** Whether a model some pod serves may be requested: always, or with --strict-allowlist only if a ConfigMap names it. */
export function isServable(model: string, table: AllowlistTable, strict: boolean): boolean {
  return !strict || table.bases.has(model) || table.adapters.has(model);
}

/** The models a request can actually be served with, sorted: what GET /v1/models lists. */
export function servableModels(table: AllowlistTable, catalog: ModelCatalog, strict: boolean): string[] {
  return [...catalog.models.keys()].filter((id) => isServable(id, table, strict)).sort();
}

/** Names allowlist ConfigMaps declare that no pod lists in GET /v1/models, sorted: requests for them get a 503. */
export function declaredOnlyModels(table: AllowlistTable, catalog: ModelCatalog): string[] {
  return [...table.bases.keys(), ...table.adapters.keys()].filter((id) => !catalog.models.has(id)).sort();
}
