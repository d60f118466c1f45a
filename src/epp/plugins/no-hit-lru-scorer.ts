/** `no-hit-lru-scorer` (llm-d): spreads cold requests (no prefix-cache hit) to the least recently used endpoints. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { PluginFactory } from '../framework/registry.js';
import type { EndpointStateHolder, PreRequest, SchedulingContext, Scorer } from '../framework/plugin.js';
import { PREFIX_CACHE_SCORER_TYPE, prefixCycleStateKey, type PrefixCycleState } from './prefix-cache-scorer.js';
import { prefixMatchInfoKey, type PrefixMatchInfo } from './prefix-match-info.js';
import { ScoreBuffer } from '../framework/score-buffer.js';

export const NO_HIT_LRU_SCORER_TYPE = 'no-hit-lru-scorer';
export const DEFAULT_NO_HIT_LRU_SIZE = 1024;

/**
 * Cold requests create new KV blocks wherever they land; sending them round the endpoints in LRU order
 * grows every cache evenly. A request is cold when the prefix-cache-scorer named `prefixPluginName` found no
 * candidate holding its first block, or did not run before this scorer (list it first in the profile).
 *
 * Cold: never-used endpoints first (1, then lower in candidate order), then used ones from least to most
 * recently used; score = 1 - rank / (n - 1), one candidate -> 1. Warm: 0.5 for all (neutral).
 * Ranks count candidates only; llm-d ranks against every endpoint in its LRU, which in a process serving
 * several pools would let one pool's traffic push another's scores to 0.
 * PreRequest moves the picked endpoint to the most recent end, for cold requests only.
 */
export class NoHitLruScorer implements Scorer, PreRequest, EndpointStateHolder {
  readonly type = NO_HIT_LRU_SCORER_TYPE;
  readonly name: string;
  readonly #scores = new ScoreBuffer();
  readonly prefixPluginName: string;
  readonly lruSize: number;
  /** Addresses, least recently used first. */
  readonly #lru = new Map<string, true>();
  /** llm-d's `prefixMatchInfoProducerName`: judge coldness by what this producer found; '' = by the prefix scorer. */
  readonly prefixMatchInfoProducerName: string;
  readonly #coldKey: string;
  readonly #prefixKey: string;
  readonly #infoKey: string | undefined;

  constructor(name: string = NO_HIT_LRU_SCORER_TYPE, prefixPluginName: string = PREFIX_CACHE_SCORER_TYPE, lruSize = DEFAULT_NO_HIT_LRU_SIZE, prefixMatchInfoProducerName = '') {
    this.name = name;
    this.prefixPluginName = prefixPluginName;
    this.lruSize = lruSize;
    this.prefixMatchInfoProducerName = prefixMatchInfoProducerName;
    this.#coldKey = `${NO_HIT_LRU_SCORER_TYPE}/${name}`;
    this.#prefixKey = prefixCycleStateKey(prefixPluginName);
    this.#infoKey = prefixMatchInfoProducerName === '' ? undefined : prefixMatchInfoKey(prefixMatchInfoProducerName);
  }

  /** The producer it reads must be declared: checked when the config is built. */
  get requiredData(): readonly { key: string; field: string }[] {
    return this.#infoKey === undefined ? [] : [{ key: this.#infoKey, field: 'prefixMatchInfoProducerName' }];
  }

  score(ctx: SchedulingContext, endpoints: readonly Endpoint[]): Float64Array {
    const n = endpoints.length;
    const out = this.#scores.zeros(n);
    const cold = !this.#warm(ctx, endpoints);
    ctx.state.write(this.#coldKey, cold);
    if (!cold) return out.fill(0.5);
    if (n === 1) return out.fill(1);
    const index = new Map<string, number>();
    for (let i = 0; i < n; i++) index.set((endpoints[i] as Endpoint).address, i);
    const used = new Uint8Array(n);
    let usedCount = 0;
    for (const address of this.#lru.keys()) {
      const i = index.get(address);
      if (i !== undefined) {
        used[i] = 1;
        usedCount++;
      }
    }
    let rank = 0;
    for (let i = 0; i < n; i++) if (!used[i]) out[i] = 1 - rank++ / (n - 1);
    // Then the used ones, least recently used first: ranks continue after the never-used ones.
    rank = n - usedCount;
    for (const address of this.#lru.keys()) {
      const i = index.get(address);
      if (i !== undefined) out[i] = 1 - rank++ / (n - 1);
    }
    return out;
  }

  preRequest(ctx: SchedulingContext, picked: Endpoint): void {
    if (ctx.state.read<boolean>(this.#coldKey) !== true) return;
    this.#lru.delete(picked.address);
    this.#lru.set(picked.address, true);
    if (this.#lru.size > this.lruSize) this.#lru.delete(this.#lru.keys().next().value as string);
  }

  forget(address: string): void {
    this.#lru.delete(address);
  }

  /**
   * Some candidate holds the prompt's first block: by the producer's match info when it named one and that arrived
   * (llm-d's way), else by the prefix-cache-scorer's cycle state.
   */
  #warm(ctx: SchedulingContext, endpoints: readonly Endpoint[]): boolean {
    const info = this.#infoKey === undefined ? undefined : ctx.state.read<PrefixMatchInfo>(this.#infoKey);
    if (info) return endpoints.some((ep) => (info.matches.get(ep.address) ?? 0) > 0);
    return ctx.state.read<PrefixCycleState>(this.#prefixKey)?.hit === true;
  }
}

/**
 * Parameters: `prefixPluginName` (default `prefix-cache-scorer`), `lruSize` (default 1024), current llm-d's
 * `prefixMatchInfoProducerName` (judge coldness by that producer's match info), `prefillProfile` and `prefixPluginType`
 * (accepted; here every profile's PreRequest sees its own pick, so the prefill profile needs no name).
 */
export const noHitLruScorerFactory: PluginFactory = (name, _p, r) => {
  r.ignored('prefillProfile', 'each profile that lists this scorer updates the LRU with its own pick');
  r.ignored('prefixPluginType', 'the prefix-cache-scorer is found by prefixPluginName (llm-d no longer reads either)');
  const prefixPluginName = r.string('prefixPluginName', PREFIX_CACHE_SCORER_TYPE);
  return new NoHitLruScorer(name, prefixPluginName, r.positiveInt('lruSize', DEFAULT_NO_HIT_LRU_SIZE), r.string('prefixMatchInfoProducerName', ''));
};
