/**
 * llm-d's `PrefixCacheMatchInfo` as a CycleState entry: what a prefix producer found for each endpoint, read by the
 * generic `prefix-cache-scorer` that names the producer in `prefixMatchInfoProducerName`.
 */
import type { Endpoint } from '../datastore/endpoint.js';

/** The CycleState key of the match info the producer named `producer` writes. */
export function prefixMatchInfoKey(producer: string): string {
  return `PrefixCacheMatchInfo/${producer}`;
}

/** An endpoint by address, with its object when the producer knows it, and its match. */
export interface PodRef {
  readonly address: string;
  readonly endpoint?: Endpoint;
  readonly blocks: number;
}

/** The index of `ref` among `endpoints`: by identity (a pointer scan), by address only when the object is unknown. */
export function locate(endpoints: readonly Endpoint[], ref: PodRef): number {
  if (ref.endpoint) {
    const i = endpoints.indexOf(ref.endpoint);
    if (i >= 0) return i;
  }
  for (let i = 0; i < endpoints.length; i++) if ((endpoints[i] as Endpoint).address === ref.address) return i;
  return -1;
}

export interface PrefixMatchInfo {
  /** Blocks the request's prompt (prefix) has; the score is matched / total. */
  readonly totalBlocks: number;
  readonly blockSizeTokens: number;
  /** Endpoint address -> leading blocks it holds (tier-weighted, as llm-d's matchBlocks); an absent endpoint holds none. */
  readonly matches: ReadonlyMap<string, number>;
  /** The same matches with their Endpoint objects where known: a scorer finds those among its candidates by identity. */
  readonly located: readonly PodRef[];
  /** Endpoints whose view cannot be trusted now (a broken or lagging event stream) and why: score those another way. */
  readonly untrusted: ReadonlyMap<string, string>;
  /** The same, with their Endpoint objects where known. */
  readonly untrustedLocated: readonly PodRef[];
  /** Told of the endpoint picked (speculative indexing, silence detection); once per request. */
  picked?(ep: Endpoint): void;
}
