/**
 * `token-load-scorer` (llm-d): prefers endpoints with fewer tokens in flight from this gateway, against a fixed
 * threshold. It keeps the count itself, from the pick to the end of each response (llm-d reads it from its
 * inflight-load-producer, which infergate does not have).
 */
import type { Endpoint } from '../datastore/endpoint.js';
import type { EndpointStateHolder, PreRequest, ResponseComplete, SchedulingContext, Scorer } from '../framework/plugin.js';
import type { PluginFactory } from '../framework/registry.js';
import { ScoreBuffer } from '../framework/score-buffer.js';
import { InFlightTokens, estimateRequestTokens } from '../../flowcontrol/in-flight-tokens.js';

/** What one pick added, and whether it was taken back yet. */
interface Added {
  readonly address: string;
  readonly tokens: number;
  taken: boolean;
}

export const TOKEN_LOAD_SCORER_TYPE = 'token-load-scorer';
/** llm-d's default: 4 Mi tokens, 128 requests of 32K. */
export const DEFAULT_QUEUE_THRESHOLD_TOKENS = 4_194_304;

/**
 * t = the estimated tokens of the requests this scorer saw picked for the endpoint and not yet finished, plus the
 * request being scored (its own weight there, as llm-d adds its uncached tokens); score = 1 - min(t, T) / T, T =
 * `queueThresholdTokens`. A request's estimate is its prompt at 4 characters a token plus 1.5 x that for the
 * output, capped by its max_tokens (`estimateRequestTokens`, as concurrency-detector's tokens mode): it is held
 * until the response ends, so the output it will generate is counted with it.
 */
export class TokenLoadScorer implements Scorer, PreRequest, ResponseComplete, EndpointStateHolder {
  readonly type = TOKEN_LOAD_SCORER_TYPE;
  readonly name: string;
  readonly queueThresholdTokens: number;
  readonly tokens = new InFlightTokens();
  readonly #scores = new ScoreBuffer();
  /** The CycleState key of what each pick of a request added (one per profile that picked), so exactly that is taken back. */
  readonly #key: string;

  constructor(name: string = TOKEN_LOAD_SCORER_TYPE, queueThresholdTokens = DEFAULT_QUEUE_THRESHOLD_TOKENS) {
    this.name = name;
    this.queueThresholdTokens = queueThresholdTokens;
    this.#key = `${name}/token-load`;
  }

  score(ctx: SchedulingContext, endpoints: readonly Endpoint[]): Float64Array {
    const out = this.#scores.zeros(endpoints.length);
    const own = estimateRequestTokens(ctx.request);
    const cap = this.queueThresholdTokens;
    for (let i = 0; i < endpoints.length; i++) {
      const t = this.tokens.of((endpoints[i] as Endpoint).address) + own;
      out[i] = t <= 0 ? 1 : 1 - Math.min(t, cap) / cap;
    }
    return out;
  }

  preRequest(ctx: SchedulingContext, picked: Endpoint): void {
    const n = estimateRequestTokens(ctx.request);
    if (n === 0) return;
    this.tokens.add(picked.address, n);
    let added = ctx.state.read<Added[]>(this.#key);
    if (!added) ctx.state.write(this.#key, (added = []));
    added.push({ address: picked.address, tokens: n, taken: false });
  }

  /**
   * Takes back what a pick of this request added: the pick of `endpoint`, or, when the request was served elsewhere
   * (ext_proc: Envoy fell back to the picker's second choice), one still counted. Each pick is taken back once.
   */
  responseComplete(ctx: SchedulingContext, endpoint: Endpoint): void {
    const added = ctx.state.read<Added[]>(this.#key);
    if (!added) return;
    const entry = added.find((a) => !a.taken && a.address === endpoint.address) ?? added.find((a) => !a.taken);
    if (!entry) return;
    entry.taken = true;
    this.tokens.remove(entry.address, entry.tokens);
  }

  forget(address: string): void {
    this.tokens.forget(address);
  }
}

/**
 * Parameters, as llm-d's: `queueThresholdTokens` (positive integer, 4194304; llm-d silently replaces a non-positive
 * one with the default, infergate refuses it). `inFlightLoadProducerName` is accepted and ignored: the scorer counts.
 */
export const tokenLoadScorerFactory: PluginFactory = (name, _p, r) => {
  r.ignored('inFlightLoadProducerName', 'this scorer counts the tokens in flight itself, through its pick hooks; there are no in-flight load producer plugins here');
  return new TokenLoadScorer(name, r.positiveInt('queueThresholdTokens', DEFAULT_QUEUE_THRESHOLD_TOKENS));
};
