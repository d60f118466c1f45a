/**
 * What `session-affinity-scorer` and `session-affinity-filter` share: llm-d's two strategies for finding the
 * endpoint a request's session belongs to, and for remembering the pick. `encoded_endpoint_header` (stateless):
 * the client echoes a token naming the endpoint, written on every response. `session_id` (stateful): the client
 * sends an opaque id, and the gateway keeps id -> endpoint bindings; nothing is written back, no pod address leaves.
 */
import type { Endpoint } from '../../datastore/endpoint.js';
import type { SchedulingContext } from '../../framework/plugin.js';
import { profilePick } from '../../framework/scheduler.js';
import { SessionBindings } from './session-bindings.js';
import { describeSource, resolveSessionId, type SessionIdSource } from './session-id-source.js';
import { parseSessionToken, sessionToken, tokenNames } from './session-token.js';

export type StrategyName = 'encoded_endpoint_header' | 'session_id';

/** A session's endpoint, as a test on candidates; undefined: no preference (no session, unbound, or its endpoint is not a candidate). */
export type SessionMatch = (ep: Endpoint) => boolean;

export interface SessionStrategy {
  readonly name: StrategyName;
  /** The session endpoint among `endpoints`, if any. Called once per cycle by the plugin's filter or scorer. */
  match(ctx: SchedulingContext, endpoints: readonly Endpoint[]): SessionMatch | undefined;
  /** After the pick (`picked`: the pick of the profile listing the plugin): remember it, when the strategy keeps state. */
  preRequest?(ctx: SchedulingContext, picked: Endpoint): void;
  /** Before the response headers go out (`served`: the endpoint of the profile listing the plugin): the token, when the strategy writes one. */
  responseHeaders?(ctx: SchedulingContext, served: Endpoint, set: (name: string, value: string) => void): void;
  /** For `explain` and `/debug/scheduling`: what the match was based on. */
  describe(ctx: SchedulingContext): string;
}

/**
 * llm-d's `profileName`: with it, the plugin records and writes the pick of that profile (the prefill pod under
 * P/D), whichever profile lists it; without it, the pick of the profile that lists it.
 */
function target(ctx: SchedulingContext, profileName: string | undefined, own: Endpoint): Endpoint | undefined {
  return profileName === undefined ? own : profilePick(ctx, profileName);
}

export class EncodedEndpointHeader implements SessionStrategy {
  readonly name = 'encoded_endpoint_header';
  readonly header: string;
  readonly #profileName: string | undefined;

  constructor(header: string, profileName?: string) {
    this.header = header;
    this.#profileName = profileName;
  }

  match(ctx: SchedulingContext): SessionMatch | undefined {
    const t = parseSessionToken(ctx.request.header(this.header));
    return t === undefined ? undefined : (ep) => tokenNames(t, ep);
  }

  responseHeaders(ctx: SchedulingContext, served: Endpoint, set: (name: string, value: string) => void): void {
    const ep = target(ctx, this.#profileName, served);
    if (ep !== undefined) set(this.header, sessionToken(ep));
  }

  describe(ctx: SchedulingContext): string {
    const t = parseSessionToken(ctx.request.header(this.header));
    return t === undefined ? `no session token in ${this.header}` : `session token names ${t.namespace}/${t.pod}${t.port === undefined ? '' : `:${t.port}`}`;
  }
}

export interface SessionIdSettings {
  readonly sources: readonly SessionIdSource[];
  readonly ttlMs: number;
  readonly sweepMs: number;
  readonly capacity: number;
}

export class SessionIdBinding implements SessionStrategy {
  readonly name = 'session_id';
  readonly settings: SessionIdSettings;
  readonly bindings: SessionBindings;
  readonly #profileName: string | undefined;
  /** CycleState key: whether this request's bound endpoint was among the candidates (only then is a different pick no move). */
  readonly #presentKey: string;

  constructor(pluginName: string, settings: SessionIdSettings, profileName?: string) {
    this.settings = settings;
    this.bindings = new SessionBindings({ ttlMs: settings.ttlMs, sweepMs: settings.sweepMs, capacity: settings.capacity });
    this.#profileName = profileName;
    this.#presentKey = `session-affinity/${pluginName}/bound-present`;
  }

  match(ctx: SchedulingContext, endpoints: readonly Endpoint[]): SessionMatch | undefined {
    const id = resolveSessionId(ctx, this.settings.sources);
    if (id === undefined) return undefined;
    const bound = this.bindings.boundTo(id, ctx.now);
    if (bound === undefined) return undefined;
    const present = endpoints.some((ep) => ep.address === bound);
    ctx.state.write(this.#presentKey, present);
    return present ? (ep) => ep.address === bound : undefined;
  }

  /**
   * Binds an unbound session to the pick and refreshes a binding the pick kept. A session moves only when its
   * endpoint was not a candidate of this request (gone, unready, or excluded by a failover): when the other
   * scorers outweighed it, the binding stays, as llm-d keeps it.
   */
  preRequest(ctx: SchedulingContext, picked: Endpoint): void {
    const id = resolveSessionId(ctx, this.settings.sources);
    if (id === undefined) return;
    const ep = target(ctx, this.#profileName, picked);
    if (ep === undefined) return;
    const bound = this.bindings.boundTo(id, ctx.now);
    if (bound === undefined || bound === ep.address || ctx.state.read<boolean>(this.#presentKey) === false) this.bindings.bind(id, ep.address, ctx.now);
  }

  describe(ctx: SchedulingContext): string {
    const id = resolveSessionId(ctx, this.settings.sources);
    if (id === undefined) return `no session id (${this.settings.sources.map(describeSource).join(', ')})`;
    const shown = id.length > 64 ? `${id.slice(0, 64)}...` : id;
    const bound = this.bindings.boundTo(id, ctx.now);
    return bound === undefined ? `session ${JSON.stringify(shown)} is not bound yet` : `session ${JSON.stringify(shown)} is bound to ${bound}`;
  }
}
