/** The union of what every endpoint reports in `GET /v1/models`: which models exist and adapters' bases. */
import type { Endpoint } from './endpoint.js';
import type { ModelCard } from './model-card.js';

export interface CatalogEntry {
  card: ModelCard;
  /** Pods (namespace/name) that list this model, for `explain` and error messages. */
  pods: string[];
}

export interface ModelCatalog {
  readonly models: ReadonlyMap<string, CatalogEntry>;
}

export function buildModelCatalog(endpoints: Iterable<Endpoint>): ModelCatalog {
  const models = new Map<string, CatalogEntry>();
  for (const ep of endpoints) {
    if (!ep.models) continue;
    for (const card of ep.models.values()) {
      const e = models.get(card.id);
      if (!e) models.set(card.id, { card, pods: [ep.podKey] });
      else if (!e.pods.includes(ep.podKey)) e.pods.push(ep.podKey);
    }
  }
  return { models };
}
