/**
 * `--api-keys`: who a request is (401), which models it may use (403), whether its tenant is within its limits
 * (429, counted before the request reaches a pod with its prompt estimated, corrected from the response's
 * `usage` when it ends), and OpenAI's rate-limit headers. The handler calls it only when keys are on.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { OBJECTIVE_HEADER } from '../api/llm-d-names.js';
import { GatewayError, shown, type RetryAdvice } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RequestObserver, RequestRecord } from '../observability/request-record.js';
import { presentedKey } from './api-key.js';
import type { KeyEntry } from './key-entry.js';
import type { Tenant } from './tenant.js';
import type { KeySource } from './key-source.js';
import type { LimitReason, LimitStore, TakeResult, Usage } from './limit-store.js';
import { headerRecord, rateLimitHeaders } from './rate-limit-headers.js';
import { TenancyMetrics } from './tenancy-metrics.js';
import { windowsAt, type Windows } from './windows.js';

/** `--rate-limit-store-failure`: admit (fail-open, the default) or refuse with 503 while the store cannot answer. */
export type StoreFailureMode = 'fail-open' | 'fail-closed';

export interface TenancyOptions {
  keys: KeySource;
  store: LimitStore;
  failure?: StoreFailureMode;
  log: Logger;
  /** The clock (ms since the epoch); tests move it. */
  now?: () => number;
}

/** A request admitted: what its end corrects, and the headers its response carries. */
export interface Admission {
  readonly entry: KeyEntry;
  /** Tokens counted up front (the prompt estimate); 0 when the store could not count (fail-open). */
  readonly estimate: number;
  readonly windows: Windows;
  /** `x-ratelimit-*`, as a flat list for forward's response headers. */
  readonly headers: string[];
  /**
   * What the store counted for the tenant with this request; undefined when it could not count (fail-open):
   * nothing of it is given back then.
   */
  readonly used: Usage | undefined;
}

/**
 * The `x-ratelimit-*` an answer carries under admission `a` (none without one): `refusedUnsent` for the
 * gateway's own refusal before any pod was tried, whose request and estimate are given back when it ends.
 */
export function admissionHeaders(a: Admission | undefined, refusedUnsent: boolean): string[] | undefined {
  if (a === undefined) return undefined;
  return refusedUnsent ? unsentHeaders(a) : a.headers;
}

/**
 * `x-ratelimit-*` for a refusal before any pod was tried (flow control's 429/503, an external picker's): the
 * request and its estimate are given back when it ends (`Tenancy.ended`), so they are not shown as used. Built
 * only for such a refusal, off the path of every admitted request.
 */
export function unsentHeaders(a: Admission): string[] {
  if (a.used === undefined) return a.headers;
  return rateLimitHeaders(a.entry.limits, { requests: a.used.requests - 1, tokens: a.used.tokens - a.estimate, dayTokens: a.used.dayTokens - a.estimate }, a.windows);
}

/** Bytes of body per token, for the up-front estimate (OpenAI's rule of thumb: ~4 characters a token). */
const BYTES_PER_TOKEN = 4;

export class Tenancy {
  readonly metrics = new TenancyMetrics();
  readonly keys: KeySource;
  readonly #store: LimitStore;
  readonly #failOpen: boolean;
  readonly #log: Logger;
  readonly #now: () => number;
  #storeDown = false;
  /** `tenant\0pool` pairs already warned of an objective the pool does not define (bounded: see unknownObjective). */
  readonly #unknownObjectives = new Set<string>();

  constructor(o: TenancyOptions) {
    this.keys = o.keys;
    this.#store = o.store;
    this.#failOpen = (o.failure ?? 'fail-open') === 'fail-open';
    this.#log = o.log;
    this.#now = o.now ?? Date.now;
  }

  /** The key entry of the request's `Authorization: Bearer`, `api-key` or `x-api-key`; throws 401 invalid_api_key. */
  authenticate(headers: IncomingHttpHeaders): KeyEntry {
    const key = presentedKey(headers.authorization, headers['api-key'], headers['x-api-key']);
    const entry = key === undefined ? undefined : this.keys.keys.lookup(key);
    if (entry !== undefined) return entry;
    this.metrics.rejected('', 'invalid_api_key');
    throw new GatewayError(
      'invalid_api_key',
      key === undefined
        ? 'You did not provide an API key. Send it as `Authorization: Bearer <key>` (or an `api-key` or `x-api-key` header); ask the gateway operator for one (`infergate keys create`).'
        : 'Incorrect API key provided. Check the key you send, or ask the gateway operator for a new one (`infergate keys create`).',
    );
  }

  /**
   * Before planning: the request's InferenceObjective is the key's (a client cannot raise its own priority),
   * unless the key allows the header. `headers` is the handler's lower-cased map, which planning reads.
   */
  applyObjective(entry: KeyEntry, headers: Map<string, string>): void {
    if (entry.allowPriorityHeader && (headers.has(OBJECTIVE_HEADER.name) || headers.has(OBJECTIVE_HEADER.alias))) return;
    headers.delete(OBJECTIVE_HEADER.name);
    headers.delete(OBJECTIVE_HEADER.alias);
    if (entry.tenant.objective !== undefined) headers.set(OBJECTIVE_HEADER.name, entry.tenant.objective);
  }

  /**
   * The priority the key sets for a request (its entry's `priority`), or undefined when the request's objective
   * decides: the key sets none, or it allows the client's own objective header (`allowPriorityHeader`) and the
   * client sent one. That header is what the pods and an external endpoint picker are sent too (llm-d's EPP
   * prioritises by it), so the gateway's own planning must not put the key's priority in its place.
   * `headers` is the handler's lower-cased map after applyObjective.
   */
  keyPriority(entry: KeyEntry, headers: ReadonlyMap<string, string> | undefined): number | undefined {
    const own = entry.tenant.priority;
    if (own === undefined || !entry.allowPriorityHeader || headers === undefined) return own;
    // A key with `priority` names no objective of its own, so an objective header here is the client's.
    return headers.has(OBJECTIVE_HEADER.name) || headers.has(OBJECTIVE_HEADER.alias) ? undefined : own;
  }

  /**
   * Logs once per tenant and pool that the key's `objective` names an InferenceObjective the pool does not define,
   * so its requests run at priority 0, as llm-d runs a request naming an unknown objective. A misspelt name in the
   * keys file was otherwise silent. At most 1,000 pairs are remembered; past that, warnings start over.
   */
  unknownObjective(tenant: Tenant, pool: string): void {
    const id = `${tenant.name}\0${pool}`;
    if (this.#unknownObjectives.has(id)) return;
    if (this.#unknownObjectives.size >= 1000) this.#unknownObjectives.clear();
    this.#unknownObjectives.add(id);
    this.#log.warn(`the API key of tenant ${tenant.name} names InferenceObjective "${tenant.objective}", which pool ${pool} does not define: its requests there run at priority 0. Define the objective for the pool, or correct the key's "objective" in the keys file.`, { tenant: tenant.name, pool, objective: tenant.objective });
  }

  /**
   * Throws 403 admin_path_blocked (counted) when the key may not call the admin path `path`, which
   * `--allow-admin-paths` lets through: that flag is the gateway's, this the key's (`allowAdminPaths`).
   */
  checkAdminPath(entry: KeyEntry, path: string): void {
    if (entry.allowAdminPaths) return;
    this.metrics.rejected(entry.tenant.name, 'admin_path_blocked');
    throw new GatewayError('admin_path_blocked', `The API key of tenant ${entry.tenant.name} may not call model server admin endpoints (${shown(path)}). Ask the gateway operator to set allowAdminPaths: true in the key's entry, or call the pod directly from inside the cluster.`);
  }

  /** Throws 403 model_not_allowed, listing what the key may use, when `model` (as the client named it) is not the key's. */
  checkModel(entry: KeyEntry, model: string): void {
    const refusal = this.modelRefusal(entry, model);
    if (refusal !== undefined) throw refusal;
  }

  /** The 403 model_not_allowed (counted) when `model` is not the key's; else undefined. */
  modelRefusal(entry: KeyEntry, model: string): GatewayError | undefined {
    if (entry.models.allows(model)) return undefined;
    this.metrics.rejected(entry.tenant.name, 'model_not_allowed');
    return new GatewayError('model_not_allowed', `The API key of tenant ${entry.tenant.name} may not use model \`${shown(model)}\`. It may use: ${entry.models.patterns.join(', ')}. Ask the gateway operator to add the model to the key's models.`, 'model');
  }

  /** The model cards a key may see (`GET /v1/models`). */
  visibleModels<T extends { id: string }>(entry: KeyEntry, cards: T[]): T[] {
    return cards.filter((c) => entry.models.allows(c.id));
  }

  /**
   * Counts the request against its tenant's limits, its prompt estimated from `bodyBytes`. Synchronous with the
   * in-memory store; a promise with Redis. Throws 429 (or 503 fail-closed) with the rate-limit headers.
   */
  admit(entry: KeyEntry, bodyBytes: number): Admission | Promise<Admission> {
    const w = windowsAt(this.#now());
    const estimate = Math.ceil(bodyBytes / BYTES_PER_TOKEN);
    let taken: TakeResult | Promise<TakeResult>;
    try {
      taken = this.#store.take(entry.tenant.name, entry.limits, estimate, w);
    } catch (e) {
      return this.#storeFailed(entry, w, e);
    }
    if (taken instanceof Promise) return taken.then((t) => this.#decide(entry, estimate, w, t), (e: unknown) => this.#storeFailed(entry, w, e));
    return this.#decide(entry, estimate, w, taken);
  }

  /** Corrects the tokens counted for an admitted request from its response's `usage`, and counts them per tenant. */
  ended(r: RequestRecord): void {
    const a = r.tenantAdmission as Admission | undefined;
    if (a === undefined) return;
    const u = r.usage;
    if (u !== undefined) this.metrics.used(a.entry.tenant.name, u.promptTokens, u.completionTokens);
    if (a.used === undefined) {
      // Admitted uncounted (the store was down, fail-open): only usage is added, nothing refunded.
      if (u !== undefined) this.#call(() => this.#store.adjust(a.entry.tenant.name, u.promptTokens + u.completionTokens, a.windows, windowsAt(this.#now())));
      return;
    }
    // No usage: an answer that never came (nothing used: refund the estimate); a stream cut before its usage chunk,
    // its client gone (at least a token per token event it carried, or hanging up early would stream for free); or
    // an answer that did not report it (keep the estimate).
    const failed = r.status === undefined || r.status >= 400;
    const delta = u !== undefined ? u.promptTokens + u.completionTokens - a.estimate : failed ? -a.estimate : r.stream ? r.tokenEvents : 0;
    const now = windowsAt(this.#now());
    if (delta !== 0) this.#call(() => this.#store.adjust(a.entry.tenant.name, delta, a.windows, now));
    // Never sent to a pod (flow control refused it, or its client left while it waited): the request it was
    // counted as is given back too, or a tenant retrying on a saturated pool would use up its requestsPerMinute
    // on requests that were never served.
    if (failed && r.attempts === 0 && a.used !== undefined) this.#call(() => this.#store.giveBackRequest(a.entry.tenant.name, a.windows, now));
  }

  #call(op: () => void | Promise<void>): void {
    try {
      const p = op();
      if (p instanceof Promise) p.catch((e: unknown) => this.#storeError(e));
    } catch (e) {
      this.#storeError(e);
    }
  }

  /** What the gateway's observers get: `ended` for usage. Composed with the others when keys are on. */
  readonly observer: RequestObserver = { ended: (r) => this.ended(r) };

  async close(): Promise<void> {
    this.keys.close();
    await this.#store.close();
  }

  #decide(entry: KeyEntry, estimate: number, w: Windows, t: TakeResult): Admission {
    this.#storeUp();
    const headers = rateLimitHeaders(entry.limits, t, w);
    if (t.refused === undefined) {
      this.metrics.admitted(entry.tenant.name);
      return { entry, estimate, windows: w, headers, used: t };
    }
    this.metrics.rejected(entry.tenant.name, t.refused);
    throw refusal(entry, t, t.refused, estimate, w, headers);
  }

  #storeFailed(entry: KeyEntry, w: Windows, e: unknown): Admission {
    this.#storeError(e);
    if (this.#failOpen) {
      this.metrics.admitted(entry.tenant.name);
      return { entry, estimate: 0, windows: w, headers: [], used: undefined };
    }
    this.metrics.rejected(entry.tenant.name, 'store_unavailable');
    throw new GatewayError('rate_limit_store_unavailable', 'The rate-limit store cannot be reached, and this gateway refuses requests it cannot count (--rate-limit-store-failure fail-closed). Retry shortly.');
  }

  /**
   * The store's client saw its connection go down or come back. With the requests that find it down (or answered
   * again), one state: an outage is logged once when it starts and once when it ends, whichever notices first.
   */
  storeState(up: boolean, detail?: string): void {
    if (up) this.#storeUp();
    else this.#storeWentDown(detail ?? 'connection lost');
  }

  #storeUp(): void {
    if (!this.#storeDown) return;
    this.#storeDown = false;
    this.#log.info('rate-limit store reachable again: limits enforced');
  }

  #storeError(e: unknown): void {
    this.metrics.storeErrors.series().inc();
    this.#storeWentDown((e as Error).message);
  }

  #storeWentDown(error: string): void {
    if (this.#storeDown) return;
    this.#storeDown = true;
    this.#log.warn(`rate-limit store unreachable: requests are ${this.#failOpen ? 'admitted uncounted (fail-open)' : 'refused with 503 (fail-closed)'} until it answers`, { error });
  }
}

/**
 * OpenAI's `type` of a 429 `rate_limit_exceeded`: the limit that refused it, `requests` (RPM) or `tokens` (TPM), not
 * a generic type (https://platform.openai.com/docs/guides/error-codes; its bodies read `"type": "tokens", "code":
 * "rate_limit_exceeded"`). Clients that tell a request limit from a token limit (to wait, or to shorten the prompt)
 * read it. `insufficient_quota` keeps its own type, as OpenAI's does.
 */
export type LimitType = 'requests' | 'tokens' | 'insufficient_quota';

/** A GatewayError that carries the rate-limit headers its 429 goes out with, and the type of the limit that refused it. */
export class LimitRefusal extends GatewayError {
  override readonly headers: Record<string, string>;
  override readonly type: LimitType;

  /** `retry`: seconds until the window that refused it resets, or false when no window can admit the request. */
  constructor(code: 'rate_limit_exceeded' | 'insufficient_quota', type: LimitType, message: string, retry: RetryAdvice, headers: string[]) {
    super(code, message, null, retry);
    this.type = type;
    this.headers = headerRecord(headers);
  }
}

function refusal(entry: KeyEntry, t: TakeResult, reason: LimitReason, estimate: number, w: Windows, headers: string[]): LimitRefusal {
  const l = entry.limits;
  const who = `tenant ${entry.tenant.name}`;
  if (reason === 'daily_tokens') {
    const s = Math.ceil(w.dayResetMs / 1000);
    // A prompt larger than the whole day's quota is refused tomorrow too: no retry can pass.
    if (estimate > (l.tokensPerDay ?? 0)) {
      return new LimitRefusal('insufficient_quota', 'insufficient_quota', `Request too large for the daily token quota of ${who}: Limit ${l.tokensPerDay}, Requested ${estimate}. The request alone is larger than the quota, so retrying cannot help: send a shorter prompt, or ask the gateway operator to raise tokensPerDay.`, false, headers);
    }
    return new LimitRefusal('insufficient_quota', 'insufficient_quota', `You exceeded the daily token quota of ${who}: Limit ${l.tokensPerDay}, Used ${t.dayTokens}, Requested ${estimate}. It resets at 00:00 UTC (in ${s}s); ask the gateway operator to raise tokensPerDay.`, s, headers);
  }
  // A prompt larger than the whole minute's limit is refused in every window: telling the client to wait (and the
  // openai SDKs retrying on retry-after) cannot help, so it gets x-should-retry: false and what to change instead.
  if (reason === 'tokens' && estimate > (l.tokensPerMinute ?? 0)) {
    return new LimitRefusal('rate_limit_exceeded', 'tokens', `Request too large for ${who} on tokens per min (TPM): Limit ${l.tokensPerMinute}, Requested ${estimate}. The request alone is larger than the limit, so retrying cannot help: send a shorter prompt, or ask the gateway operator to raise tokensPerMinute.`, false, headers);
  }
  const s = Math.max(1, Math.ceil(w.minuteResetMs / 1000));
  const [what, limit, used, requested] = reason === 'requests' ? ['requests per min (RPM)', l.requestsPerMinute, t.requests, 1] : ['tokens per min (TPM)', l.tokensPerMinute, t.tokens, estimate];
  return new LimitRefusal('rate_limit_exceeded', reason === 'requests' ? 'requests' : 'tokens', `Rate limit reached for ${who} on ${what}: Limit ${limit}, Used ${used}, Requested ${requested}. Please try again in ${s}s.`, s, headers);
}
