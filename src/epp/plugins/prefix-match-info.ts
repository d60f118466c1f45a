/**
 * llm-d's `PrefixCacheMatchInfo` as a CycleState entry: what a prefix producer found for each endpoint, read by the
 * generic `prefix-cache-scorer` that names the producer in `prefixMatchInfoProducerName`.
 */
import type { Endpoint } from '../datastore/endpoint.js';

/** The CycleState key of the match info the producer named `producer` writes. */
export function prefixMatchInfoKey(producer: string): string {
  return `PrefixCacheMatchInfo/${producer}`;
}

export interface PrefixMatchInfo {
  /** Blocks the request's prompt (prefix) has; the score is matched / total. */
  readonly totalBlocks: number;
  readonly blockSizeTokens: number;
  /** Endpoint address -> leading blocks it holds (tier-weighted, as llm-d's matchBlocks); an absent endpoint holds none. */
  readonly matches: ReadonlyMap<string, number>;
  /** Endpoints whose view cannot be trusted now (a broken or lagging event stream) and why: score those another way. */
  readonly untrusted: ReadonlyMap<string, string>;
  /** Told of the endpoint picked (speculative indexing, silence detection); once per request. */
  picked?(ep: Endpoint): void;
}
