/** The union of what every endpoint reports in `GET /v1/models`: which models exist and adapters' bases. */
import type { Endpoint } from './endpoint.js';
import type { CatalogEntry, ModelCatalog } from '../../bbr/model-catalog.js';

export function buildModelCatalog(endpoints: Iterable<Endpoint>): ModelCatalog {
  const models = new Map<string, CatalogEntry>();
  const refused: { pod: string; message: string }[] = [];
  const mismatched: { pod: string; address: string; message: string }[] = [];
  for (const ep of endpoints) {
    if (ep.modelsRefused !== 0) refused.push({ pod: ep.podKey, message: ep.modelsError ?? `GET ${ep.origin}/v1/models answered ${ep.modelsRefused}` });
    if (ep.protocolMismatch !== undefined) mismatched.push({ pod: ep.podKey, address: ep.address, message: ep.protocolMismatch });
    if (!ep.models) continue;
    for (const card of ep.models.values()) {
      const e = models.get(card.id);
      if (!e) {
        models.set(card.id, { card, pods: [ep.podKey] });
        continue;
      }
      if (!e.pods.includes(ep.podKey)) e.pods.push(ep.podKey);
      // Pods may serve one model with different --max-model-len (a rolling change): the list shows the smallest,
      // which a request fits on whichever pod it reaches. The endpoints' own cards are not changed.
      const len = card.max_model_len;
      if (len !== undefined && (e.card.max_model_len === undefined || len < e.card.max_model_len)) e.card = { ...e.card, max_model_len: len };
    }
  }
  return { models, ...(refused.length > 0 ? { refused } : {}), ...(mismatched.length > 0 ? { mismatched } : {}) };
}
