/** `served-model-filter` (llm-d): keeps the endpoints whose `GET /v1/models` lists the requested model. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { Filter, SchedulingContext } from '../framework/plugin.js';
import type { PluginFactory } from '../framework/registry.js';

export const SERVED_MODEL_FILTER_TYPE = 'served-model-filter';

export type OnMissing = 'Pass' | 'Fail';

/**
 * As llm-d's filter: an endpoint listing the model is kept, one listing other models only is dropped. An
 * endpoint that has not answered `GET /v1/models` yet is dropped when some candidate lists the model as an
 * adapter (it is unlikely to have it registered) or with `onMissing: Fail`, and kept otherwise. Nothing kept
 * -> empty (the request gets 503), or every candidate with `fallbackOnEmpty: true`. No model -> unfiltered.
 */
export class ServedModelFilter implements Filter {
  readonly type = SERVED_MODEL_FILTER_TYPE;
  readonly name: string;
  readonly onMissing: OnMissing;
  readonly fallbackOnEmpty: boolean;
  readonly #cache = new WeakMap<readonly Endpoint[], Map<string, CachedVerdict>>();
  readonly #seen = new WeakSet<readonly Endpoint[]>();

  constructor(name: string = SERVED_MODEL_FILTER_TYPE, onMissing: OnMissing = 'Pass', fallbackOnEmpty = false) {
    this.name = name;
    this.onMissing = onMissing;
    this.fallbackOnEmpty = fallbackOnEmpty;
  }

  filter(ctx: SchedulingContext, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    const model = ctx.request.model;
    if (model === undefined) return endpoints;
    // The candidates are usually a pool's endpoint array, the same object request after request: reuse the
    // answer while no endpoint's model list changed (setModels replaces the map), instead of n map lookups.
    const cached = this.#cache.get(endpoints)?.get(model);
    if (cached && sameModels(cached.models, endpoints)) return cached.result;
    let keepUnlisted = this.onMissing === 'Pass';
    let all = true;
    for (const ep of endpoints) {
      const card = ep.models?.get(model);
      if (card?.parent) keepUnlisted = false;
      if (!card) all = false;
    }
    let result: readonly Endpoint[] = endpoints;
    if (!all) {
      const kept = endpoints.filter((ep) => (ep.models ? ep.models.has(model) : keepUnlisted));
      result = kept.length === 0 && this.fallbackOnEmpty ? endpoints : kept;
    }
    // Cache only arrays seen before: a caller that builds a fresh candidate list per request would otherwise
    // pay for a snapshot it never reuses.
    if (!this.#seen.has(endpoints)) {
      this.#seen.add(endpoints);
      return result;
    }
    let byModel = this.#cache.get(endpoints);
    if (!byModel) this.#cache.set(endpoints, (byModel = new Map()));
    // Bounded: a client naming random models must not grow it.
    if (byModel.size >= MAX_CACHED_MODELS) byModel.clear();
    byModel.set(model, { models: endpoints.map((ep) => ep.models), result });
    return result;
  }
}

interface CachedVerdict {
  models: readonly (ReadonlyMap<string, unknown> | undefined)[];
  result: readonly Endpoint[];
}

const MAX_CACHED_MODELS = 64;

function sameModels(models: CachedVerdict['models'], endpoints: readonly Endpoint[]): boolean {
  if (models.length !== endpoints.length) return false;
  for (let i = 0; i < endpoints.length; i++) if ((endpoints[i] as Endpoint).models !== models[i]) return false;
  return true;
}

/** Parameters: `onMissing` (`Pass` | `Fail`, default `Pass`), `fallbackOnEmpty` (default false). */
export const servedModelFilterFactory: PluginFactory = (name, _p, r) =>
  new ServedModelFilter(name, r.oneOf<OnMissing>('onMissing', 'Pass', ['Pass', 'Fail']), r.boolean('fallbackOnEmpty', false));
