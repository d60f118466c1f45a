/** `session-affinity-filter` (llm-d): pins a session to the endpoint that served it before, as a hard constraint. */
import type { Endpoint } from '../../datastore/endpoint.js';
import type { PluginFactory } from '../../framework/registry.js';
import type { ConfigLinked, Filter, LinkableConfig, LinkReport, PreRequest, ResponseHeaders, SchedulingContext } from '../../framework/plugin.js';
import { linkSessionAffinity, readSessionAffinity, type SessionAffinitySettings } from './session-affinity-params.js';
import type { SessionStrategy } from './session-strategy.js';

export const SESSION_AFFINITY_FILTER_TYPE = 'session-affinity-filter';

/**
 * Keeps only the session's endpoint when it is a candidate; otherwise (no session, not bound yet, its endpoint
 * gone) keeps every candidate, so it never empties the set. The strategies and hooks are the scorer's
 * (session-strategy.ts); a filter and a scorer each keep their own `session_id` bindings, so use one of them.
 */
export class SessionAffinityFilter implements Filter, ConfigLinked, Partial<PreRequest>, Partial<ResponseHeaders> {
  readonly type = SESSION_AFFINITY_FILTER_TYPE;
  readonly name: string;
  readonly strategy: SessionStrategy;
  readonly preRequest?: (ctx: SchedulingContext, picked: Endpoint) => void;
  readonly responseHeaders?: (ctx: SchedulingContext, served: Endpoint, set: (name: string, value: string) => void) => void;
  readonly #settings: SessionAffinitySettings;

  constructor(name: string, settings: SessionAffinitySettings) {
    this.name = name;
    this.strategy = settings.strategy;
    this.#settings = settings;
    const s = this.strategy;
    if (s.preRequest) this.preRequest = (ctx, picked) => s.preRequest!(ctx, picked);
    if (s.responseHeaders) this.responseHeaders = (ctx, served, set) => s.responseHeaders!(ctx, served, set);
  }

  filter(ctx: SchedulingContext, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    const match = this.strategy.match(ctx, endpoints);
    if (match === undefined) return endpoints;
    const kept = endpoints.filter(match);
    return kept.length > 0 ? kept : endpoints;
  }

  link(config: LinkableConfig): LinkReport {
    return linkSessionAffinity(this.#settings, config);
  }
}

/** Parameters: as `session-affinity-scorer`'s (docs/plugins.md). */
export const sessionAffinityFilterFactory: PluginFactory = (name, _p, r) => new SessionAffinityFilter(name, readSessionAffinity(name, r));
