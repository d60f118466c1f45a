/** Routing accuracy: did the endpoint that served each success list the requested model in its own `GET /v1/models`? */
import { fetchModelIds } from './fetch-models.js';

/** Correct out of checked; successes whose endpoint could not be asked are not checked. */
export interface RoutingVerdict {
  checked: number;
  correct: number;
}

/**
 * Counts successes per (endpoint, model) during the run and asks each endpoint once at the end, so the check costs
 * the measured requests nothing. The pod is asked directly, not the gateway, so the check does not trust the gateway.
 */
/** Where to ask an endpoint for its models: its base URL, and the API key it takes, if any. */
export interface ModelsSource {
  base: string;
  apiKey?: string;
}

export class RoutingCheck {
  readonly #served = new Map<string, Map<string, number>>();
  readonly #modelsUrl: (endpoint: string) => ModelsSource | null;

  /** `modelsBase(endpoint)` says where to ask, or null when the endpoint is not an address (a pod name). */
  constructor(modelsBase: (endpoint: string) => ModelsSource | null) {
    this.#modelsUrl = modelsBase;
  }

  add(endpoint: string, model: string): void {
    let models = this.#served.get(endpoint);
    if (models === undefined) this.#served.set(endpoint, (models = new Map()));
    models.set(model, (models.get(model) ?? 0) + 1);
  }

  /** Asks every endpoint in parallel; one that does not answer in `timeoutMs` (say, an unroutable pod IP) is left unchecked. */
  async verdict(timeoutMs = 3000): Promise<RoutingVerdict> {
    const verdicts = await Promise.all(
      [...this.#served].map(async ([endpoint, models]): Promise<RoutingVerdict> => {
        const source = this.#modelsUrl(endpoint);
        const listed = source === null ? null : await fetchModelIds(source.base, timeoutMs, source.apiKey).then((ids) => new Set(ids), () => null);
        if (listed === null) return { checked: 0, correct: 0 };
        let checked = 0;
        let correct = 0;
        for (const [model, n] of models) {
          checked += n;
          if (listed.has(model)) correct += n;
        }
        return { checked, correct };
      }),
    );
    return verdicts.reduce((a, b) => ({ checked: a.checked + b.checked, correct: a.correct + b.correct }), { checked: 0, correct: 0 });
  }
}
