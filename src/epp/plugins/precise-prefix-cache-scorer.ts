/**
 * `precise-prefix-cache-scorer`: llm-d's older all-in-one plugin, kept as a wrapper as llm-d keeps it: a
 * `precise-prefix-cache-producer` and a `prefix-cache-scorer` reading it, in one instance under one name, with
 * the producer's parameters. Tokens still come from a `token-producer` declared beside it.
 */
import type { Endpoint } from '../datastore/endpoint.js';
import type { DataProducer, EndpointStateHolder, PreRequest, SchedulingContext, ScoreNotes, Scorer } from '../framework/plugin.js';
import type { PluginFactory } from '../framework/registry.js';
import type { KvEventsPlugin } from '../plugin-runtime.js';
import type { KvCacheView } from '../../kvevents/kv-cache-view.js';
import type { KvEventsSettings, SpeculativeSettings } from '../../kvevents/kv-events-settings.js';
import { PrecisePrefixCacheProducer, readPreciseParams } from './precise-prefix-cache-producer.js';
import { PrefixCacheScorer } from './prefix-cache-scorer.js';
import { TOKENIZED_PROMPT_KEY } from './tokenized-prompt.js';

export const PRECISE_PREFIX_CACHE_SCORER_TYPE = 'precise-prefix-cache-scorer';

export class PrecisePrefixCacheScorer implements Scorer, PreRequest, DataProducer, KvEventsPlugin, EndpointStateHolder {
  readonly type = PRECISE_PREFIX_CACHE_SCORER_TYPE;
  readonly name: string;
  readonly consumes = [TOKENIZED_PROMPT_KEY] as const;
  readonly produces: string;
  readonly producer: PrecisePrefixCacheProducer;
  /** Scores the producer's matches, and is the approximate view of pods whose event stream is broken. */
  readonly scorer: PrefixCacheScorer;

  constructor(name: string, settings: KvEventsSettings, speculative: SpeculativeSettings) {
    this.name = name;
    this.producer = new PrecisePrefixCacheProducer(name, settings, speculative, PRECISE_PREFIX_CACHE_SCORER_TYPE);
    this.produces = this.producer.produces;
    this.scorer = new PrefixCacheScorer(name, { prefixMatchInfoProducerName: name });
  }

  get kvEventsSettings(): KvEventsSettings {
    return this.producer.kvEventsSettings;
  }

  get indexSize(): number {
    return this.producer.indexSize;
  }

  bindView(view: KvCacheView): void {
    this.producer.bindView(view);
  }

  produce(ctx: SchedulingContext, endpoints: readonly Endpoint[]): void {
    this.producer.produce(ctx, endpoints);
  }

  score(ctx: SchedulingContext, endpoints: readonly Endpoint[]): ArrayLike<number> {
    return this.scorer.score(ctx, endpoints);
  }

  cachedTokens(ctx: SchedulingContext, ep: Endpoint): number | undefined {
    return this.scorer.cachedTokens(ctx, ep);
  }

  scoreNotes(ctx: SchedulingContext, endpoints: readonly Endpoint[]): ScoreNotes | undefined {
    return this.scorer.scoreNotes(ctx, endpoints);
  }

  preRequest(ctx: SchedulingContext, picked: Endpoint): void {
    this.scorer.preRequest(ctx, picked);
  }

  forget(address: string): void {
    this.scorer.forget(address);
  }
}

/**
 * llm-d's parameters: `tokenProcessorConfig`, `indexerConfig`, `kvEventsConfig`, `speculativeIndexing`, `speculativeTTL`.
 * `indexerConfig.tokenizersPoolConfig`, which llm-d's version of this plugin still reads (it tokenizes in process),
 * is accepted with a warning: the tokens come from a token-producer.
 */
export const precisePrefixCacheScorerFactory: PluginFactory = (name, _p, r) => {
  const { settings, speculative } = readPreciseParams(r, { legacyTokenizerPool: true });
  return new PrecisePrefixCacheScorer(name, settings, speculative);
};
