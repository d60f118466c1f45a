/**
 * How a reflector is doing, for readiness and `/debug` (src/config/kube/kube-source.ts): the last error while it
 * has not recovered, since when it keeps failing, whether an optional resource is unreadable (its CRD missing,
 * RBAC not granting it), and the backoff its retries wait. The log says when a problem starts, changes and ends;
 * repeats of one go to debug so an outage does not flood it.
 */
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from '../../backoff.js';
import type { Logger } from '../../logger.js';
import { KubeApiError } from './kube-client.js';
import { kindPlural, type ResourceType } from './resource-types.js';

export interface HealthOptions {
  type: ResourceType;
  /** The reflector's description: `pods in namespace llm (app=vllm)`. */
  description: string;
  log: Logger;
  backoff?: BackoffOptions;
  random?: () => number;
  /** See ReflectorOptions.optionalRetryMs. */
  optionalRetryMs?: number;
  /** See ReflectorOptions.forbiddenExpected. */
  forbiddenExpected?: string;
  /** See ReflectorOptions.oneShot. */
  oneShot?: boolean;
  /** Listed across every namespace (`--all-namespaces`): only a ClusterRole can grant it. */
  clusterWide?: boolean;
}

export class ReflectorHealth {
  readonly #o: HealthOptions;
  readonly #backoff: Backoff;
  #lastError: string | undefined;
  #failingSince: number | undefined;
  #unreadable = false;
  #forbidden = false;

  constructor(o: HealthOptions) {
    this.#o = o;
    this.#backoff = new Backoff(o.backoff ?? DEFAULT_BACKOFF, o.random);
  }

  /** The last error while it has not recovered, else undefined (also why an optional resource is unreadable). */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** When the list or watch started failing (epoch ms), while it keeps failing; an unreadable optional resource is not. */
  get failingSince(): number | undefined {
    return this.#failingSince;
  }

  /** True while an optional resource is missing or forbidden. */
  get unreadable(): boolean {
    return this.#unreadable;
  }

  /** True while an optional resource is unreadable because RBAC forbids it (403), not because its CRD is missing. */
  get forbidden(): boolean {
    return this.#unreadable && this.#forbidden;
  }

  /** The next delay of the backoff (also what paces lists a server answers with 410 Gone again and again). */
  nextDelay(): number {
    return this.#backoff.next();
  }

  /** A list came back: readable again. Call `listed` once its objects are in the copy. */
  readable(): void {
    this.#unreadable = false;
  }

  /** A list came back with `items` objects: the failure, if any, is over (and logged as such). */
  listed(items: number): void {
    this.#backoff.reset();
    if (this.#lastError !== undefined) this.#o.log.info(`${this.#o.description}: listed again (recovered from: ${this.#lastError})`, { items });
    this.#lastError = undefined;
    this.#failingSince = undefined;
  }

  /** A watch opened: the failure, if any, is over. */
  watching(): void {
    if (this.#lastError !== undefined) {
      this.#o.log.info(`${this.#o.description}: watching again`);
      this.#lastError = undefined;
    }
    this.#failingSince = undefined;
    this.#backoff.reset();
  }

  /**
   * An optional resource answered 404 or 403: a missing alpha CRD or a Role without it, which the gateway runs
   * without rather than never becoming ready. Not a failure: one of llm-d's and GIE's groups is missing in most
   * clusters, so it would always count as one. Returns how long to wait before listing it again.
   */
  optionalUnreadable(e: KubeApiError): number {
    const { type, log } = this.#o;
    const retryMs = this.#o.optionalRetryMs ?? 30_000;
    this.#failingSince = undefined;
    const why = e.status === 404 ? `the ${type.kind} CRD (${type.apiVersion}) is not installed` : `access is forbidden (${e.message})`;
    const expected = e.status === 403 ? this.#o.forbiddenExpected : undefined;
    // A missing optional CRD is the normal state of most clusters (one of llm-d's and GIE's groups is absent): info.
    if (this.#lastError !== why) log[expected || e.status === 404 ? 'info' : 'warn'](`${this.#o.description}: ${why}; ${expected ? `${expected}; ` : ''}${this.#o.oneShot ? `read as no ${kindPlural(type.kind)}` : `running without ${kindPlural(type.kind)} and checking again every ${Math.round(retryMs / 1000)} s`}`);
    this.#lastError = why;
    this.#unreadable = true;
    this.#forbidden = e.status === 403;
    return retryMs;
  }

  /**
   * What to grant for a forbidden list. Across every namespace a Role's grant does not count, which the bare "grant
   * get, list and watch" left operators who had it in their Role puzzling over.
   */
  #grant(): string {
    const { type } = this.#o;
    const group = type.apiVersion.includes('/') ? ` (${type.apiVersion.split('/')[0]})` : '';
    const verbs = `get, list and watch on ${type.plural}${group}`;
    return this.#o.clusterWide
      ? `grant ${verbs} in a ClusterRole with a ClusterRoleBinding, as --all-namespaces needs (a Role grants one namespace only); the *-all-namespaces overlays have one`
      : `grant ${verbs}`;
  }

  /**
   * A list or watch failed and will be retried: logged (what to grant on a 403, what to install on a missing
   * CRD), and recorded as the last error. `synced`: a copy is kept meanwhile. Returns the backoff's delay.
   */
  failed(e: Error, synced: boolean): number {
    const { type, log } = this.#o;
    this.#failingSince ??= Date.now();
    const delay = this.#backoff.next();
    const message =
      e instanceof KubeApiError && e.status === 403
        ? `${e.message} (${this.#grant()}; see docs/kubernetes.md#rbac)`
        : e instanceof KubeApiError && e.status === 404 && type.apiVersion.includes('.')
          ? `the ${type.kind} CRD (${type.apiVersion}) is not installed on the API server; install it (docs/kubernetes.md#install)`
          : e.message;
    // Warn when the problem starts or changes; repeats of the same one go to debug so an outage does not flood.
    const level = this.#lastError === message ? 'debug' : e instanceof KubeApiError && e.status === 403 ? 'error' : 'warn';
    log[level](`${this.#o.description}: ${message}; ${synced ? 'keeping the last copy and ' : ''}retrying in ${delay} ms`, { failures: this.#backoff.failures });
    this.#lastError = message;
    return delay;
  }
}
