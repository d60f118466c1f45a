/** `active-request-scorer` (llm-d): prefers endpoints with fewer requests the gateway has in flight to them. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { PluginFactory } from '../framework/registry.js';
import type { SchedulingContext, Scorer } from '../framework/plugin.js';
import { ScoreBuffer } from '../framework/score-buffer.js';

export const ACTIVE_REQUEST_SCORER_TYPE = 'active-request-scorer';

/**
 * n = `ep.inFlight` (counted by the proxy at pick time, so a burst spreads before any scrape sees it).
 * n <= idleThreshold -> 1; else (max - n) / max x maxBusyScore, max over the candidates (llm-d's formula).
 * All idle -> all 1.
 */
export class ActiveRequestScorer implements Scorer {
  readonly type = ACTIVE_REQUEST_SCORER_TYPE;
  readonly name: string;
  readonly #scores = new ScoreBuffer();
  readonly idleThreshold: number;
  readonly maxBusyScore: number;

  constructor(name: string = ACTIVE_REQUEST_SCORER_TYPE, idleThreshold = 0, maxBusyScore = 1) {
    this.name = name;
    this.idleThreshold = idleThreshold;
    this.maxBusyScore = maxBusyScore;
  }

  score(_ctx: SchedulingContext, endpoints: readonly Endpoint[]): Float64Array {
    const n = endpoints.length;
    const out = this.#scores.zeros(n);
    let max = 0;
    for (let i = 0; i < n; i++) max = Math.max(max, endpoints[i]?.inFlight ?? 0);
    for (let i = 0; i < n; i++) {
      const c = endpoints[i]?.inFlight ?? 0;
      out[i] = c <= this.idleThreshold ? 1 : ((max - c) / max) * this.maxBusyScore;
    }
    return out;
  }
}

/**
 * Parameters: `idleThreshold` (integer >= 0, default 0), `maxBusyScore` (0..1, default 1). `requestTimeout` is
 * accepted and ignored, as in current llm-d: the proxy decrements `inFlight` when a response ends.
 */
export const activeRequestScorerFactory: PluginFactory = (name, _p, r) => {
  r.ignored('requestTimeout', 'in-flight counts are released by the proxy when each response ends');
  r.ignored('inFlightLoadProducerName', "the gateway's own in-flight counts are used; there are no in-flight load producer plugins here");
  return new ActiveRequestScorer(name, r.int('idleThreshold', 0, { min: 0 }), r.number('maxBusyScore', 1, { min: 0, max: 1 }));
};
