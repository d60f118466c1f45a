/** `session-affinity-scorer` (llm-d): prefers the endpoint that served the request's session before, as a soft preference. */
import type { Endpoint } from '../../datastore/endpoint.js';
import type { PluginFactory } from '../../framework/registry.js';
import type { ConfigLinked, LinkableConfig, LinkReport, PreRequest, ResponseHeaders, SchedulingContext, Scorer, ScoreNotes } from '../../framework/plugin.js';
import { ScoreBuffer } from '../../framework/score-buffer.js';
import { linkSessionAffinity, readSessionAffinity, type SessionAffinitySettings } from './session-affinity-params.js';
import { EncodedEndpointHeader, type SessionStrategy } from './session-strategy.js';
import { DEFAULT_SESSION_HEADER } from './session-token.js';

export const SESSION_AFFINITY_SCORER_TYPE = 'session-affinity-scorer';

/**
 * Scores 1 for the session's endpoint and 0 for the others; all 0 when the request has no session, its session is
 * not bound yet, or its endpoint is not a candidate (then it does not sway). `encoded_endpoint_header` writes the
 * served endpoint's token on every response (a ResponseHeaders hook); `session_id` binds the pick (a PreRequest
 * hook). Only the hook the strategy needs exists, so the proxy skips the other per request.
 */
export class SessionAffinityScorer implements Scorer, ConfigLinked, Partial<PreRequest>, Partial<ResponseHeaders> {
  readonly type = SESSION_AFFINITY_SCORER_TYPE;
  readonly name: string;
  readonly strategy: SessionStrategy;
  readonly preRequest?: (ctx: SchedulingContext, picked: Endpoint) => void;
  readonly responseHeaders?: (ctx: SchedulingContext, served: Endpoint, set: (name: string, value: string) => void) => void;
  readonly #scores = new ScoreBuffer();
  readonly #settings: SessionAffinitySettings | undefined;

  constructor(name: string = SESSION_AFFINITY_SCORER_TYPE, strategy: SessionStrategy | string = DEFAULT_SESSION_HEADER, settings?: SessionAffinitySettings) {
    this.name = name;
    this.strategy = typeof strategy === 'string' ? new EncodedEndpointHeader(strategy.toLowerCase()) : strategy;
    this.#settings = settings;
    const s = this.strategy;
    if (s.preRequest) this.preRequest = (ctx, picked) => s.preRequest!(ctx, picked);
    if (s.responseHeaders) this.responseHeaders = (ctx, served, set) => s.responseHeaders!(ctx, served, set);
  }

  score(ctx: SchedulingContext, endpoints: readonly Endpoint[]): Float64Array {
    const out = this.#scores.zeros(endpoints.length);
    const match = this.strategy.match(ctx, endpoints);
    if (match === undefined) return out;
    for (let i = 0; i < endpoints.length; i++) if (match(endpoints[i] as Endpoint)) out[i] = 1;
    return out;
  }

  scoreNotes(ctx: SchedulingContext): ScoreNotes {
    return { basis: this.strategy.describe(ctx) };
  }

  link(config: LinkableConfig): LinkReport {
    return this.#settings === undefined ? { issues: [], warnings: [] } : linkSessionAffinity(this.#settings, config);
  }
}

/** Parameters: docs/plugins.md, `session-affinity-scorer` (session-affinity-params.ts reads them). */
export const sessionAffinityScorerFactory: PluginFactory = (name, _p, r) => {
  const settings = readSessionAffinity(name, r);
  return new SessionAffinityScorer(name, settings.strategy, settings);
};
