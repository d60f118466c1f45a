/** `queue-scorer`: prefers endpoints with fewer waiting requests, relative to the other candidates. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { PluginFactory } from '../framework/registry.js';
import type { SchedulingContext, Scorer } from '../framework/plugin.js';
import { ScoreBuffer } from '../framework/score-buffer.js';

export const QUEUE_SCORER_TYPE = 'queue-scorer';

/**
 * score = (maxQ - q) / (maxQ - minQ) over the candidates with metrics, q = `vllm:num_requests_waiting` plus
 * the gateway's unanswered requests the pod does not report (`Endpoint.waitingQueue`);
 * all equal -> 1 (GIE's QueueScorer). An endpoint without metrics scores 0, the worst: it is never preferred
 * over one whose queue is known, and when none has metrics all score 0 and the scorer does not sway.
 */
export class QueueScorer implements Scorer {
  readonly type = QUEUE_SCORER_TYPE;
  readonly name: string;
  readonly #scores = new ScoreBuffer();

  constructor(name: string = QUEUE_SCORER_TYPE) {
    this.name = name;
  }

  score(_ctx: SchedulingContext, endpoints: readonly Endpoint[]): Float64Array {
    const n = endpoints.length;
    const out = this.#scores.zeros(n);
    // One pass over the endpoints (pointer chasing), then arithmetic on the queue sizes copied into `out`.
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      const ep = endpoints[i] as Endpoint;
      if (!ep.metrics) {
        out[i] = NaN;
        continue;
      }
      const q = ep.waitingQueue();
      out[i] = q;
      if (q < min) min = q;
      if (q > max) max = q;
    }
    const range = max - min;
    for (let i = 0; i < n; i++) {
      const q = out[i] as number;
      out[i] = q !== q ? 0 : range > 0 ? (max - q) / range : 1;
    }
    return out;
  }
}

export const queueScorerFactory: PluginFactory = (name) => new QueueScorer(name);
