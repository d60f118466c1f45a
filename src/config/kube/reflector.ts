/**
 * Keeps a local copy of one collection (a resource type in a namespace, maybe narrowed by a label or field
 * selector) in step with the API server: list, then watch from the list's resourceVersion, as client-go's
 * Reflector does. Bookmarks advance the resourceVersion; 410 Gone (the version was compacted away) lists
 * again; a lost connection reconnects with backoff while the last copy stays in use.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../../logger.js';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from '../../backoff.js';
import { KubeApiError, type KubeClient } from './kube-client.js';
import { collectionPath, type ResourceType } from './resource-types.js';

/** A Kubernetes object as JSON. Items of a list carry no kind/apiVersion on the wire; the reflector adds them. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; generation?: number; [k: string]: unknown };
  [k: string]: unknown;
}

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
  random?: () => number;
}

interface Entry {
  obj: KubeObject;
  view: string;
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

const defaultView = (obj: KubeObject): string => {
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = obj.metadata;
  return JSON.stringify({ ...obj, metadata: meta });
};

export class Reflector {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly selector: string;
  readonly stats: ReflectorStats = { lists: 0, watches: 0, relists: 0, bookmarks: 0, failures: 0 };
  readonly #o: ReflectorOptions;
  readonly #view: (obj: KubeObject) => string;
  readonly #backoff: Backoff;
  #items = new Map<string, Entry>();
  #rv: string | undefined;
  #synced = false;
  #resolveSynced!: () => void;
  readonly #syncedPromise: Promise<void>;
  #abort: AbortController | undefined;
  #stopped = false;
  #running: Promise<void> | undefined;
  #lastError: string | undefined;
  #failingSince: number | undefined;
  #unreadable = false;
  #forbidden = false;
  #wake: (() => void) | undefined;
  #lastRelist = 0;

  constructor(opts: ReflectorOptions) {
    this.#o = opts;
    this.type = opts.type;
    this.namespace = opts.namespace;
    this.selector = [opts.labelSelector, opts.fieldSelector].filter(Boolean).join(',');
    this.#view = opts.view ?? defaultView;
    this.#backoff = new Backoff(opts.backoff ?? DEFAULT_BACKOFF, opts.random);
    this.#syncedPromise = new Promise((resolve) => (this.#resolveSynced = resolve));
  }

  /**
   * `pods in namespace llm (app=vllm)`, `inferenceobjectives.llm-d.ai in namespace llm`: for logs and readiness
   * reasons. A resource of an API group is named with it, as kubectl does: InferenceObjectives are watched in
   * two groups, and either may fail alone.
   */
  get description(): string {
    const slash = this.type.apiVersion.lastIndexOf('/');
    const resource = slash < 0 ? this.type.plural : `${this.type.plural}.${this.type.apiVersion.slice(0, slash)}`;
    return `${resource} in ${this.namespace === undefined ? 'all namespaces' : `namespace ${this.namespace}`}${this.selector ? ` (${this.selector})` : ''}`;
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
    return this.#unreadable;
  }

  /** True while an optional resource is unreadable because RBAC forbids it (403), not because its CRD is missing. */
  get forbidden(): boolean {
    return this.#unreadable && this.#forbidden;
  }

  /** The last error while it has not recovered, else undefined (also why an optional resource is unreadable). */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /**
   * When the list or watch started failing (epoch ms), while it keeps failing and retries with backoff; undefined
   * once it lists or watches again. An optional resource that is merely unreadable (`unreadable`) is not failing:
   * a CRD that is not installed, or one RBAC does not grant, is a normal state.
   */
  get failingSince(): number | undefined {
    return this.#failingSince;
  }

  get resourceVersion(): string | undefined {
    return this.#rv;
  }

  /** The current copy. The objects are the API server's JSON: do not mutate them. */
  items(): IterableIterator<KubeObject> {
    return mapIter(this.#items.values(), (e) => e.obj);
  }

  get size(): number {
    return this.#items.size;
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
    const { log, type } = this.#o;
    if (e instanceof KubeApiError && e.status === 410) {
      // Our resourceVersion is older than etcd keeps: only a new list can tell what changed meanwhile.
      this.stats.relists++;
      log.info(`${this.description}: resourceVersion ${this.#rv ?? '?'} expired (410 Gone); listing again`);
      this.#rv = undefined;
      // A server answering 410 right after a fresh list again and again must not get a tight list loop.
      const now = Date.now();
      if (now - this.#lastRelist < 1000) await this.#sleep(this.#backoff.next());
      this.#lastRelist = now;
      return;
    }
    if (type.optional && e instanceof KubeApiError && (e.status === 404 || e.status === 403)) {
      // A missing alpha CRD or a Role without it: run without the resource rather than never becoming ready.
      // Not a failure: one of llm-d's and GIE's groups is missing in most clusters, so it would always count as one.
      this.#failingSince = undefined;
      const why = e.status === 404 ? `the ${type.kind} CRD (${type.apiVersion}) is not installed` : `access is forbidden (${e.message})`;
      const expected = e.status === 403 ? this.#o.forbiddenExpected : undefined;
      if (this.#lastError !== why) log[expected ? 'info' : 'warn'](`${this.description}: ${why}; ${expected ? `${expected}; ` : ''}running without ${kindPlural(type.kind)} and checking again every ${Math.round((this.#o.optionalRetryMs ?? 30_000) / 1000)} s`);
      this.#lastError = why;
      this.#unreadable = true;
      this.#forbidden = e.status === 403;
      this.#rv = undefined;
      this.#replace([]);
      this.#markSynced();
      await this.#sleep(this.#o.optionalRetryMs ?? 30_000);
      return;
    }
    this.stats.failures++;
    this.#failingSince ??= Date.now();
    const delay = this.#backoff.next();
    const message =
      e instanceof KubeApiError && e.status === 403
        ? `${e.message} (grant get, list and watch on ${type.plural}; see docs/kubernetes.md#rbac)`
        : e instanceof KubeApiError && e.status === 404 && type.apiVersion.includes('.')
          ? `the ${type.kind} CRD (${type.apiVersion}) is not installed on the API server; install it (docs/kubernetes.md#install)`
          : e.message;
    // Warn when the problem starts or changes; repeats of the same one go to debug so an outage does not flood.
    const level = this.#lastError === message ? 'debug' : e instanceof KubeApiError && e.status === 403 ? 'error' : 'warn';
    log[level](`${this.description}: ${message}; ${this.#synced ? 'keeping the last copy and ' : ''}retrying in ${delay} ms`, { failures: this.#backoff.failures });
    this.#lastError = message;
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
      for (const raw of Array.isArray(page.items) ? (page.items as KubeObject[]) : []) objs.push(this.#complete(raw));
      rv = meta.resourceVersion;
      cont = meta.continue || undefined;
    } while (cont !== undefined && !this.#stopped);
    this.stats.lists++;
    this.#rv = rv;
    const recovered = this.#lastError;
    this.#unreadable = false;
    this.#replace(objs);
    this.#backoff.reset();
    if (recovered !== undefined) this.#o.log.info(`${this.description}: listed again (recovered from: ${recovered})`, { items: objs.length });
    this.#lastError = undefined;
    this.#failingSince = undefined;
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
    if (this.#lastError !== undefined) {
      this.#o.log.info(`${this.description}: watching again`);
      this.#lastError = undefined;
    }
    this.#failingSince = undefined;
    this.#backoff.reset();
    return this.#readEvents(res, abort, this.#o.idleTimeoutMs ?? (timeout + 30) * 1000);
  }

  #readEvents(res: IncomingMessage, abort: AbortController, idleMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let buffered = '';
      let events = 0;
      let failure: Error | undefined;
      let idle = setTimeout(onIdle, idleMs);
      function onIdle(): void {
        failure = new Error(`the watch was silent for ${idleMs} ms`);
        abort.abort();
      }
      const finish = (): void => {
        clearTimeout(idle);
        if (this.#abort === abort) this.#abort = undefined;
        if (failure) reject(failure);
        else resolve(events);
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        clearTimeout(idle);
        idle = setTimeout(onIdle, idleMs);
        buffered += chunk;
        let nl: number;
        while (failure === undefined && (nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          try {
            events++;
            this.#event(JSON.parse(line) as { type?: string; object?: KubeObject });
          } catch (e) {
            failure = e as Error;
            abort.abort();
          }
        }
      });
      res.on('end', finish);
      res.on('error', (e) => {
        // An abort we asked for (stop, idle, a 410 event) is not an error of its own. Node names a connection
        // cut mid-response only "aborted", which says nothing in a log line.
        if (!failure && !this.#stopped) failure = e.message === 'aborted' ? new Error('the connection to the API server was cut during the watch (aborted)') : e;
        finish();
      });
      res.on('close', finish);
    });
  }

  #event(ev: { type?: string; object?: KubeObject }): void {
    const obj = ev.object;
    if (!obj || typeof obj !== 'object') throw new Error(`a watch event without an object (type ${ev.type ?? '?'})`);
    if (ev.type === 'ERROR') {
      const s = obj as unknown as { code?: number; reason?: string; message?: string };
      throw new KubeApiError(s.code ?? 500, s.reason, `watch error ${s.code ?? '?'} ${s.reason ?? ''}: ${s.message ?? ''}`);
    }
    const rv = obj.metadata?.resourceVersion;
    if (ev.type === 'BOOKMARK') {
      this.stats.bookmarks++;
      if (rv) this.#rv = rv;
      return;
    }
    if (!obj.metadata?.name) throw new Error(`a ${ev.type ?? '?'} event without metadata.name`);
    const full = this.#complete(obj);
    const key = keyFor(full);
    let changed = false;
    if (ev.type === 'ADDED' || ev.type === 'MODIFIED') {
      const view = this.#view(full);
      changed = this.#items.get(key)?.view !== view;
      this.#items.set(key, { obj: full, view });
    } else if (ev.type === 'DELETED') {
      changed = this.#items.delete(key);
    } else {
      throw new Error(`unknown watch event type ${ev.type ?? '(none)'}`);
    }
    if (rv) this.#rv = rv;
    if (changed) this.#o.onChange();
  }

  #replace(objs: readonly KubeObject[]): void {
    const next = new Map<string, Entry>();
    for (const obj of objs) next.set(keyFor(obj), { obj, view: this.#view(obj) });
    let changed = next.size !== this.#items.size;
    if (!changed) for (const [k, e] of next) if (this.#items.get(k)?.view !== e.view) changed = true;
    this.#items = next;
    if (changed || !this.#synced) this.#o.onChange();
  }

  #markSynced(): void {
    if (this.#synced) return;
    this.#synced = true;
    this.#resolveSynced();
  }

  #complete(raw: KubeObject): KubeObject {
    // Items of a list come without kind and apiVersion; the readers need both.
    if (raw.kind && raw.apiVersion) return raw;
    return { ...raw, kind: raw.kind || this.type.kind, apiVersion: raw.apiVersion || this.type.apiVersion };
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

/** `InferenceObjectives`, `GatewayClasses`: a kind in the plural, for messages. */
export function kindPlural(kind: string): string {
  return /(s|x|z|ch|sh)$/.test(kind) ? `${kind}es` : `${kind}s`;
}

function keyFor(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

function* mapIter<A, B>(it: Iterable<A>, f: (a: A) => B): IterableIterator<B> {
  for (const a of it) yield f(a);
}
