/**
 * The deciders of llm-d's disaggregation handlers (`deciders.prefill`, `deciders.encode`): per request, whether a
 * stage runs beside decode. A decider is declared under `plugins` and named by the handler, never listed in a profile.
 */
import type { Endpoint } from '../../datastore/endpoint.js';
import type { Plugin, SchedulingContext } from '../../framework/plugin.js';

export interface DisaggDecider extends Plugin {
  /**
   * Whether the stage runs for this request. `decode` is the decode pick (decode-first: the prefill decider weighs
   * what that pod already caches), undefined where no decode pick is made yet (prefill-first's encode stage).
   * Never throws: a decider that cannot tell says no, and the decode pod does the whole request.
   */
  disaggregate(ctx: SchedulingContext, decode: Endpoint | undefined): boolean;
}

export function isDisaggDecider(p: Plugin): p is DisaggDecider {
  return typeof (p as Partial<DisaggDecider>).disaggregate === 'function';
}

/**
 * A plugin that knows how many of the request's prompt tokens an endpoint already holds in its KV cache: the
 * prefix-cache-scorer (approximate or precise), after it scored the request. What `prefix-based-pd-decider` reads
 * (llm-d's `PrefixCacheMatchInfo` on the decode endpoint).
 */
export interface CachedTokenSource extends Plugin {
  /** Tokens of the prompt's cached prefix on `ep`; undefined when this plugin has not scored this request. */
  cachedTokens(ctx: SchedulingContext, ep: Endpoint): number | undefined;
}

export function isCachedTokenSource(p: Plugin): p is CachedTokenSource {
  return typeof (p as Partial<CachedTokenSource>).cachedTokens === 'function';
}
