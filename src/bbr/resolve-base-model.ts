/** Maps the requested model to its base model: allowlist ConfigMaps first, then what the pods report. */
import { ALLOWLIST_LABEL_HINT } from '../api/allowlist.js';
import type { ModelCatalog } from '../epp/datastore/model-catalog.js';
import { GatewayError } from '../errors.js';
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
  const served = servedModels(table, catalog, strict);
  const entry = catalog.models.get(model);
  if (entry && strict) {
    const list = served.length > 0 ? served.join(', ') : '(none: no allowlist ConfigMap is loaded)';
    throw new GatewayError(
      'model_not_found',
      `model \`${model}\` is served by pod ${entry.pods[0]} but is in no allowlist ConfigMap, and --strict-allowlist is set. Add it to ${ALLOWLIST_LABEL_HINT}. Allowlisted models: ${list}`,
      'model',
    );
  }
  const list = served.length > 0 ? served.join(', ') : strict ? '(none: no allowlist ConfigMap is loaded)' : '(none: no allowlist ConfigMap and no pod has answered GET /v1/models)';
  throw new GatewayError(
    'model_not_found',
    `model \`${model}\` is not served here. Served models: ${list}. To serve it, run a pod that lists it in GET /v1/models and is selected by an InferencePool that an HTTPRoute reaches${strict ? `, and name it in ${ALLOWLIST_LABEL_HINT}` : ''}.${refusedNote(catalog)}`,
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

/** Every model name a client may send, sorted. */
export function servedModels(table: AllowlistTable, catalog: ModelCatalog, strict: boolean): string[] {
  const names = new Set<string>([...table.bases.keys(), ...table.adapters.keys()]);
  if (!strict) for (const id of catalog.models.keys()) names.add(id);
  return [...names].sort();
}
