/**
 * Keeps a local copy of one collection (a resource type in a namespace, maybe narrowed by a label or field
 * selector) in step with the API server: list, then watch from the list's resourceVersion, as client-go's
 * Reflector does. Bookmarks advance the resourceVersion; 410 Gone (the version was compacted away) lists
 * again; a lost connection reconnects with backoff while the last copy stays in use. The copy is
 * object-copy.ts, the reading of a watch watch-events.ts, the failure state and its backoff reflector-health.ts.
 */
import type { Logger } from '../../logger.js';
import type { BackoffOptions } from '../../backoff.js';
import { KubeApiError, type KubeClient } from './kube-client.js';
import { withKind, type KubeObject } from './kube-object.js';
import { ObjectCopy } from './object-copy.js';
import { ReflectorHealth } from './reflector-health.js';
import { collectionPath, type ResourceType } from './resource-types.js';
import { readWatchEvents, type WatchEvent } from './watch-events.js';

export interface ReflectorOptions {
  client: KubeClient;
  type: ResourceType;
  /** undefined: every namespace. */
  namespace: string | undefined;
  labelSelector?: string;
  fieldSelector?: string;
  log: Logger;
  /** Called after the copy changed in a way `view` can see, and once after the first sync. */
  onChange: () => void;
  /**
   * Called on each failed list or watch that will be retried (not a 410 Gone, nor an optional resource found
   * unreadable), after `lastError` says what failed.
   */
  onFailure?: (e: Error) => void;
  /**
   * What of an object matters; an update that leaves it unchanged does not call onChange. Default: the whole
   * object but its resourceVersion and managedFields.
   */
  view?: (obj: KubeObject) => string;
  /** How long the server keeps one watch open before the reflector opens the next (client-go: 5–10 min). */
  watchTimeoutSeconds?: number;
  /** A watch silent for this long (no event, no bookmark) is presumed dead and reopened. */
  idleTimeoutMs?: number;
  /** Items per list page (`limit`); large namespaces are listed in pages. */
  pageSize?: number;
  backoff?: BackoffOptions;
  /** How long an optional resource that is missing or forbidden waits before it is listed again. */
  optionalRetryMs?: number;
  /**
   * Set when a 403 on this optional resource is the expected state, not a gap to fix (cluster-scoped
   * GatewayClasses under a namespaced Role): what that means, logged at info instead of a warning.
   */
  forbiddenExpected?: string;
  /**
   * Read once and stopped (`validate --kube`, `explain --kube`): the log says an unreadable optional resource is read
   * as empty, not that it is checked again, which a one-shot read never does.
   */
  oneShot?: boolean;
  random?: () => number;
}

/** Lifetime counters, for tests and logs. */
export interface ReflectorStats {
  lists: number;
  watches: number;
  /** 410 Gone answers that forced a new list. */
  relists: number;
  bookmarks: number;
  failures: number;
}

export class Reflector {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly selector: string;
  /**
   * `pods in namespace llm (app=vllm)`, `inferenceobjectives.llm-d.ai in namespace llm`: for logs and readiness
   * reasons. A resource of an API group is named with it, as kubectl does: InferenceObjectives are watched in
   * two groups, and either may fail alone.
   */
  readonly description: string;
  readonly stats: ReflectorStats = { lists: 0, watches: 0, relists: 0, bookmarks: 0, failures: 0 };
  readonly #o: ReflectorOptions;
  readonly #copy: ObjectCopy;
  readonly #health: ReflectorHealth;
  #rv: string | undefined;
  #synced = false;
  #resolveSynced!: () => void;
  readonly #syncedPromise: Promise<void>;
  #abort: AbortController | undefined;
  #stopped = false;
  #running: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #lastRelist = 0;

  constructor(opts: ReflectorOptions) {
    this.#o = opts;
    this.type = opts.type;
    this.namespace = opts.namespace;
    this.selector = [opts.labelSelector, opts.fieldSelector].filter(Boolean).join(',');
    this.description = describe(opts.type, opts.namespace, this.selector);
    this.#copy = new ObjectCopy(opts.view);
    this.#health = new ReflectorHealth({
      type: opts.type,
      description: this.description,
      log: opts.log,
      ...(opts.backoff !== undefined ? { backoff: opts.backoff } : {}),
      ...(opts.random !== undefined ? { random: opts.random } : {}),
      ...(opts.optionalRetryMs !== undefined ? { optionalRetryMs: opts.optionalRetryMs } : {}),
      ...(opts.forbiddenExpected !== undefined ? { forbiddenExpected: opts.forbiddenExpected } : {}),
      ...(opts.oneShot ? { oneShot: true } : {}),
      ...(opts.namespace === undefined ? { clusterWide: true } : {}),
    });
    this.#syncedPromise = new Promise((resolve) => (this.#resolveSynced = resolve));
  }

  /** True once the first list (or, for an optional resource, the first answer) came back. */
  get synced(): boolean {
    return this.#synced;
  }

  whenSynced(): Promise<void> {
    return this.#syncedPromise;
  }

  /**
   * True while an optional resource is missing or forbidden: its copy is empty because it could not be read,
   * not because the API server has none.
   */
  get unreadable(): boolean {
    return this.#health.unreadable;
  }

  /** True while an optional resource is unreadable because RBAC forbids it (403), not because its CRD is missing. */
  get forbidden(): boolean {
    return this.#health.forbidden;
  }

  /** The last error while it has not recovered, else undefined (also why an optional resource is unreadable). */
  get lastError(): string | undefined {
    return this.#health.lastError;
  }

  /**
   * When the list or watch started failing (epoch ms), while it keeps failing and retries with backoff; undefined
   * once it lists or watches again. An optional resource that is merely unreadable (`unreadable`) is not failing:
   * a CRD that is not installed, or one RBAC does not grant, is a normal state.
   */
  get failingSince(): number | undefined {
    return this.#health.failingSince;
  }

  get resourceVersion(): string | undefined {
    return this.#rv;
  }

  /** The current copy. The objects are the API server's JSON: do not mutate them. */
  items(): IterableIterator<KubeObject> {
    return this.#copy.items();
  }

  get size(): number {
    return this.#copy.size;
  }

  start(): void {
    if (this.#running || this.#stopped) return;
    this.#running = this.#run();
  }

  /** Stops watching; resolves when the loop has ended. The copy stays readable. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort?.abort();
    this.#wake?.();
    await this.#running;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        if (this.#rv === undefined) await this.#list();
        if (this.#stopped) return;
        const started = Date.now();
        const events = await this.#watch();
        // A watch the server ends straight away, again and again, must not turn into a busy loop.
        if (events === 0 && Date.now() - started < 1000) throw new Error('the watch ended at once without events');
      } catch (e) {
        if (this.#stopped) return;
        await this.#failed(e as Error);
      }
    }
  }

  async #failed(e: Error): Promise<void> {
    if (e instanceof KubeApiError && e.status === 410) {
      // Our resourceVersion is older than etcd keeps: only a new list can tell what changed meanwhile.
      this.stats.relists++;
      this.#o.log.info(`${this.description}: resourceVersion ${this.#rv ?? '?'} expired (410 Gone); listing again`);
      this.#rv = undefined;
      // A server answering 410 right after a fresh list again and again must not get a tight list loop.
      const now = Date.now();
      if (now - this.#lastRelist < 1000) await this.#sleep(this.#health.nextDelay());
      this.#lastRelist = now;
      return;
    }
    if (this.type.optional && e instanceof KubeApiError && (e.status === 404 || e.status === 403)) {
      const retryMs = this.#health.optionalUnreadable(e);
      this.#rv = undefined;
      this.#replace([]);
      this.#markSynced();
      await this.#sleep(retryMs);
      return;
    }
    this.stats.failures++;
    const delay = this.#health.failed(e, this.#synced);
    this.#o.onFailure?.(e);
    await this.#sleep(delay);
  }

  /** Lists every page, then swaps the copy in one step. */
  async #list(): Promise<void> {
    const { client, type, namespace, labelSelector, fieldSelector } = this.#o;
    const path = collectionPath(type, namespace);
    const objs: KubeObject[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      const page = await client.getJson(path, { labelSelector, fieldSelector, limit: this.#o.pageSize ?? 500, continue: cont }, this.#signal());
      const meta = (page.metadata ?? {}) as { resourceVersion?: string; continue?: string };
      for (const raw of Array.isArray(page.items) ? (page.items as KubeObject[]) : []) objs.push(withKind(raw, type));
      rv = meta.resourceVersion;
      cont = meta.continue || undefined;
    } while (cont !== undefined && !this.#stopped);
    this.stats.lists++;
    this.#rv = rv;
    this.#health.readable();
    this.#replace(objs);
    this.#health.listed(objs.length);
    this.#markSynced();
  }

  /** One watch request, read to its end. Returns how many events it carried. */
  async #watch(): Promise<number> {
    const { client, type, namespace, labelSelector, fieldSelector } = this.#o;
    const timeout = this.#o.watchTimeoutSeconds ?? 300 + Math.floor((this.#o.random ?? Math.random)() * 300);
    const abort = new AbortController();
    this.#abort = abort;
    if (this.#stopped) abort.abort();
    const res = await client.watch(collectionPath(type, namespace), { labelSelector, fieldSelector, resourceVersion: this.#rv, allowWatchBookmarks: true, timeoutSeconds: timeout }, abort.signal);
    this.stats.watches++;
    this.#health.watching();
    try {
      return await readWatchEvents(res, abort, this.#o.idleTimeoutMs ?? (timeout + 30) * 1000, (ev) => this.#event(ev), () => this.#stopped);
    } finally {
      if (this.#abort === abort) this.#abort = undefined;
    }
  }

  #event(ev: WatchEvent): void {
    if (ev.type === 'BOOKMARK') {
      this.stats.bookmarks++;
      if (ev.resourceVersion) this.#rv = ev.resourceVersion;
      return;
    }
    const full = withKind(ev.object, this.type);
    const changed = ev.type === 'DELETED' ? this.#copy.delete(full) : this.#copy.put(full);
    const rv = full.metadata.resourceVersion;
    if (rv) this.#rv = rv;
    if (changed) this.#o.onChange();
  }

  #replace(objs: readonly KubeObject[]): void {
    if (this.#copy.replace(objs) || !this.#synced) this.#o.onChange();
  }

  #markSynced(): void {
    if (this.#synced) return;
    this.#synced = true;
    this.#resolveSynced();
  }

  #signal(): AbortSignal {
    this.#abort = new AbortController();
    return this.#abort.signal;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}

/** See Reflector.description. */
function describe(type: ResourceType, namespace: string | undefined, selector: string): string {
  const slash = type.apiVersion.lastIndexOf('/');
  const resource = slash < 0 ? type.plural : `${type.plural}.${type.apiVersion.slice(0, slash)}`;
  return `${resource} in ${namespace === undefined ? 'all namespaces' : `namespace ${namespace}`}${selector ? ` (${selector})` : ''}`;
}
