/**
 * `precise-prefix-cache-producer` (llm-d's DataProducer of the same type): the request's tokens (from a
 * `token-producer`) -> block keys -> the KV-block index the pods' events keep -> for each endpoint, how many
 * leading blocks of the prompt it holds. The generic `prefix-cache-scorer` turns that into scores when its
 * `prefixMatchInfoProducerName` names this plugin. With `speculativeIndexing`, the pick is added to the index for
 * `speculativeTTL`, so a burst of the same prefix keeps its affinity before the engine's events arrive.
 */
import type { Endpoint } from '../datastore/endpoint.js';
import type { DataProducer, SchedulingContext } from '../framework/plugin.js';
import type { ParamReader } from '../framework/param-reader.js';
import type { PluginFactory } from '../framework/registry.js';
import type { KvEventsPlugin } from '../plugin-runtime.js';
import type { BlockKeys } from '../../kvevents/block-key.js';
import type { KvCacheView } from '../../kvevents/kv-cache-view.js';
import type { KvEventsSettings, SpeculativeSettings } from '../../kvevents/kv-events-settings.js';
import { readKvEventsSettings, readSpeculativeSettings } from './kv-events-params.js';
import { prefixMatchInfoKey, type PodRef, type PrefixMatchInfo } from './prefix-match-info.js';
import { TOKENIZED_PROMPT_KEY, type TokenizedPrompt } from './tokenized-prompt.js';

export const PRECISE_PREFIX_CACHE_PRODUCER_TYPE = 'precise-prefix-cache-producer';

const NONE_UNTRUSTED: ReadonlyMap<string, string> = new Map();
const NONE: readonly never[] = [];

export class PrecisePrefixCacheProducer implements DataProducer, KvEventsPlugin {
  readonly type: string;
  readonly name: string;
  readonly consumes = [TOKENIZED_PROMPT_KEY] as const;
  readonly produces: string;
  readonly kvEventsSettings: KvEventsSettings;
  readonly speculative: SpeculativeSettings;
  #view: KvCacheView | undefined;

  constructor(name: string, settings: KvEventsSettings, speculative: SpeculativeSettings, type = PRECISE_PREFIX_CACHE_PRODUCER_TYPE) {
    this.name = name;
    this.type = type;
    this.kvEventsSettings = settings;
    this.speculative = speculative;
    this.produces = prefixMatchInfoKey(name);
  }

  /** The view in use; undefined until a running gateway binds one (never under `explain`). */
  get view(): KvCacheView | undefined {
    return this.#view;
  }

  bindView(view: KvCacheView): void {
    this.#view = view;
  }

  /** Index entries (keys held by some pod) of the view, for `llm_d_epp_prefix_indexer_size`. */
  get indexSize(): number {
    return this.#view?.index.size ?? 0;
  }

  produce(ctx: SchedulingContext, _endpoints: readonly Endpoint[]): void {
    const view = this.#view;
    const tp = ctx.state.read<TokenizedPrompt>(TOKENIZED_PROMPT_KEY);
    if (!view || !tp) return;
    const keys = tp.keys(view.hasher, ctx.request.model ?? '');
    if (keys.count === 0) return;
    const r = view.lookup(keys);
    const matches = new Map<string, number>();
    const located: PodRef[] = [];
    for (let i = 0; i < r.size; i++) {
      const address = view.addressOf(r.pods[i] as number);
      if (address === undefined) continue;
      // llm-d's matchLen: the tier-weighted run, truncated (a GPU block counts 1, a CPU one 0.8).
      const blocks = Math.floor((r.scores[i] as number) + 1e-9);
      matches.set(address, blocks);
      located.push(ref(view, address, blocks));
    }
    const untrusted = view.untrusted();
    const untrustedLocated: PodRef[] = [];
    for (const address of untrusted.keys()) untrustedLocated.push(ref(view, address, 0));
    const info: PrefixMatchInfo = {
      totalBlocks: keys.count,
      blockSizeTokens: view.hasher.blockSize,
      matches,
      located,
      untrusted: untrusted.size === 0 ? NONE_UNTRUSTED : untrusted,
      untrustedLocated: untrustedLocated.length === 0 ? NONE : untrustedLocated,
      picked: (ep) => this.#picked(view, keys, matches, ep),
    };
    ctx.state.write(this.produces, info);
  }

  #picked(view: KvCacheView, keys: BlockKeys, matches: ReadonlyMap<string, number>, ep: Endpoint): void {
    // The pod must store the blocks it lacks: if it then says nothing for long, its publisher has gone silent.
    if ((matches.get(ep.address) ?? 0) < keys.count) view.expectEvents(ep.address);
    if (this.speculative.enabled) view.speculate(keys, ep.address, this.speculative.ttlMs);
  }
}

function ref(view: KvCacheView, address: string, blocks: number): PodRef {
  const endpoint = view.ownerOf(address) as Endpoint | undefined;
  return endpoint ? { address, endpoint, blocks } : { address, blocks };
}

/** Reads llm-d's parameters: `tokenProcessorConfig`, `indexerConfig`, `kvEventsConfig`, `speculativeIndexing`, `speculativeTTL`. */
export function readPreciseParams(r: ParamReader, options: { legacyTokenizerPool?: boolean } = {}): { settings: KvEventsSettings; speculative: SpeculativeSettings } {
  return { settings: readKvEventsSettings(r, options), speculative: readSpeculativeSettings(r) };
}

export const precisePrefixCacheProducerFactory: PluginFactory = (name, _p, r) => {
  const { settings, speculative } = readPreciseParams(r);
  return new PrecisePrefixCacheProducer(name, settings, speculative);
};
