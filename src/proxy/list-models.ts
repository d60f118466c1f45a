/** The gateway's own `GET /v1/models`: every model any pool serves, adapters with their `parent`. */
import { lookupBaseModel } from '../bbr/resolve-base-model.js';
import type { GatewayState } from './plan-request.js';

export interface ModelListing {
  object: 'list';
  data: { id: string; object: 'model'; created: number; owned_by: string; root: string; parent: string | null; max_model_len?: number }[];
}

export function listModels(state: GatewayState): ModelListing {
  const catalog = state.datastore.catalog();
  const created = Math.floor(Date.now() / 1000);
  const data: ModelListing['data'] = [];
  for (const [id, entry] of catalog.models) {
    // ConfigMaps win over what pods report (REFERENCE §1): show the parent requests will be routed by.
    const r = lookupBaseModel(id, state.snapshot.allowlistTable, catalog, state.strictAllowlist);
    if (!r) continue; // not allowlisted under --strict-allowlist: requests for it get 404, so do not list it
    const parent = r.isAdapter ? r.baseModel : null;
    const item: ModelListing['data'][number] = { id, object: 'model', created, owned_by: entry.card.owned_by ?? 'vllm', root: entry.card.root ?? id, parent };
    if (entry.card.max_model_len !== undefined) item.max_model_len = entry.card.max_model_len;
    data.push(item);
  }
  data.sort((a, b) => a.id.localeCompare(b.id));
  return { object: 'list', data };
}
