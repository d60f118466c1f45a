/** `running-requests-size-scorer` (llm-d): prefers endpoints running fewer requests, relative to the other candidates. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { PluginFactory } from '../framework/registry.js';
import type { SchedulingContext, Scorer } from '../framework/plugin.js';
import { ScoreBuffer } from '../framework/score-buffer.js';

export const RUNNING_REQUESTS_SIZE_SCORER_TYPE = 'running-requests-size-scorer';

/**
 * r = `vllm:num_requests_running` from the last scrape; score = (maxR - r) / (maxR - minR) over the candidates with
 * metrics, all equal -> 1 (llm-d's formula). An endpoint never scraped scores 0, as in queue-scorer: llm-d reads a
 * missing count as 0 running, which would make a pod not yet scraped the most preferred of all.
 */
export class RunningRequestsSizeScorer implements Scorer {
  readonly type = RUNNING_REQUESTS_SIZE_SCORER_TYPE;
  readonly name: string;
  readonly #scores = new ScoreBuffer();

  constructor(name: string = RUNNING_REQUESTS_SIZE_SCORER_TYPE) {
    this.name = name;
  }

  score(_ctx: SchedulingContext, endpoints: readonly Endpoint[]): Float64Array {
    const n = endpoints.length;
    const out = this.#scores.zeros(n);
    let lo = Infinity;
    let hi = -Infinity;
    // First pass: the running counts (NaN for no metrics) and their range among the scraped endpoints.
    for (let i = 0; i < n; i++) {
      const m = (endpoints[i] as Endpoint).metrics;
      const r = m ? m.runningQueueSize : NaN;
      out[i] = r;
      if (r < lo) lo = r;
      if (r > hi) hi = r;
    }
    const span = hi - lo;
    for (let i = 0; i < n; i++) {
      const r = out[i] as number;
      if (Number.isNaN(r)) out[i] = 0;
      else out[i] = span > 0 ? (hi - r) / span : 1;
    }
    return out;
  }
}

/** No parameters, as llm-d's. */
export const runningRequestsSizeScorerFactory: PluginFactory = (name) => new RunningRequestsSizeScorer(name);
