/**
 * Every pool's upstream API key, read from its source (file, Secret, flag, environment) with each
 * configuration snapshot and again every little while, so a rotated Secret is followed without a restart.
 */
import { ConfigError, formatIssue, type ConfigIssue } from '../api/config-issue.js';
import type { ConfigSnapshot } from '../config/snapshot.js';
import type { Endpoint } from '../epp/datastore/endpoint.js';
import type { Logger } from '../logger.js';
import { describeApiKeySource, poolApiKeySource, type ApiKeySource } from './api-key-source.js';
import { readApiKey, type SecretReader } from './read-api-key.js';
import { refusalMessage, type EndpointAuth, type PoolCredential } from './upstream-auth.js';

/** How often every key is read again: kubelet takes about a minute to update a mounted Secret anyway. */
export const DEFAULT_KEY_REFRESH_MS = 30_000;
/** A refusal reads the keys again at once (the pod may have a rotated key), but not more often than this. */
const REFRESH_ON_REFUSAL_MS = 5_000;
/** A Secret read that takes longer fails (and keeps the key read before): a slow API server must not stall reloads. */
const READ_TIMEOUT_MS = 2_000;

export interface UpstreamCredentialsOptions {
  /** The key of pools without an annotation (`--upstream-api-key-file`, `INFERGATE_UPSTREAM_API_KEY`). */
  defaultSource?: ApiKeySource;
  /** Reads Secrets (`--kube`); without it a Secret annotation is reported as unusable. */
  readSecret?: SecretReader;
  /** Read every key again this often (ms); 0 (the default) only with snapshots and `refreshSoon` (explain, validate). */
  refreshMs?: number;
  log?: Logger;
}

/** A pool whose key cannot be read, for /readyz and the metrics. */
export interface KeyProblem {
  pool: string;
  source: string;
  error: string;
}

export interface PreparedCredentials {
  warnings: string[];
  /** Reads the keys (new sources, and ones not read for a refresh interval), then swaps them in. Never rejects. */
  commit(): Promise<void>;
}

interface KeyRead {
  key: string | undefined;
  error: string | undefined;
  at: number;
}

interface Plan {
  sources: ReadonlyMap<string, ApiKeySource>;
  poolOfEndpoint: ReadonlyMap<string, string>;
}

export class UpstreamCredentials implements EndpointAuth {
  readonly #opts: UpstreamCredentialsOptions;
  #plan: Plan = { sources: new Map(), poolOfEndpoint: new Map() };
  #byPool = new Map<string, PoolCredential>();
  /** Source id -> the last read of it, shared by the pools naming the same source. */
  #reads = new Map<string, KeyRead>();
  #timer: NodeJS.Timeout | undefined;
  #generation = 0;
  #lastReload = 0;
  #reloading: Promise<void> | undefined;
  #closed = false;

  constructor(opts: UpstreamCredentialsOptions = {}) {
    this.#opts = opts;
  }

  /**
   * Reads every pool's annotations; throws ConfigError naming each bad one, so a file edit with a bad value
   * is rejected whole. With `isolate` (live sources) a bad value is a warning and the pool takes the flag's key.
   */
  prepare(snapshot: ConfigSnapshot, isolate = false): PreparedCredentials {
    const sources = new Map<string, ApiKeySource>();
    const issues: ConfigIssue[] = [];
    const warnings: string[] = [];
    const poolOfEndpoint = new Map<string, string>();
    for (const [key, pool] of snapshot.pools) {
      const r = poolApiKeySource(pool, this.#opts.defaultSource);
      warnings.push(...r.warnings);
      if (isolate) warnings.push(...r.issues.map((i) => `${formatIssue(i)}; the pool uses ${this.#opts.defaultSource ? describeApiKeySource(this.#opts.defaultSource) : 'no key'} until this is fixed`));
      else issues.push(...r.issues);
      if (r.source) sources.set(key, r.source);
      // Every pool's endpoints, keyed or not: a refusal names the pool to set the key on. A pod two pools select
      // on the same port is one endpoint: the first pool naming a key gives it.
      for (const m of snapshot.members.get(key) ?? []) {
        for (const port of pool.targetPorts) {
          const id = endpointId(`${m.pod.meta.namespace}/${m.pod.meta.name}`, port);
          const prior = poolOfEndpoint.get(id);
          if (prior === undefined || (!sources.has(prior) && r.source)) poolOfEndpoint.set(id, key);
        }
      }
    }
    if (issues.length > 0) throw new ConfigError(issues);
    const generation = ++this.#generation;
    const plan: Plan = { sources, poolOfEndpoint };
    return {
      warnings,
      commit: async () => {
        await this.#read(plan.sources, false);
        // A later snapshot prepared meanwhile wins, whichever read finishes first.
        if (generation !== this.#generation || this.#closed) return;
        this.#plan = plan;
        this.#rebuild();
        this.#startTimer();
      },
    };
  }

  /** The credential of pool `key` (namespace/name); undefined when it names no key (the client's Authorization passes). */
  forPool(key: string): PoolCredential | undefined {
    return this.#byPool.get(key);
  }

  /** The pool `ep` belongs to (the first pool naming a key, if several select it). */
  poolOf(ep: Endpoint): string | undefined {
    return this.#plan.poolOfEndpoint.get(endpointId(ep.podKey, ep.port));
  }

  headersFor(ep: Endpoint): Readonly<Record<string, string>> | undefined {
    const pool = this.poolOf(ep);
    return pool === undefined ? undefined : this.#byPool.get(pool)?.headers;
  }

  refused(ep: Endpoint, url: string, status: number): string {
    const pool = this.poolOf(ep);
    this.refreshSoon();
    return refusalMessage(url, status, pool, pool === undefined ? undefined : this.#byPool.get(pool));
  }

  /** Pools whose key cannot be read now. */
  problems(): KeyProblem[] {
    const out: KeyProblem[] = [];
    for (const c of this.#byPool.values()) if (c.error !== undefined) out.push({ pool: c.pool, source: describeApiKeySource(c.source), error: c.error });
    return out.sort((a, b) => (a.pool < b.pool ? -1 : 1));
  }

  /** Every pool that names a key, and whether it is read (for the metrics). */
  pools(): IterableIterator<PoolCredential> {
    return this.#byPool.values();
  }

  /** Reads every key again soon (a pod refused the one sent: it may have been rotated); at most every few seconds. */
  refreshSoon(): void {
    if (this.#closed || this.#reloading || Date.now() - this.#lastReload < REFRESH_ON_REFUSAL_MS) return;
    void this.reload();
  }

  /** Reads every key of the configuration in force again, now. */
  reload(): Promise<void> {
    this.#reloading ??= (async () => {
      try {
        const plan = this.#plan;
        await this.#read(plan.sources, true);
        if (plan === this.#plan && !this.#closed) this.#rebuild();
      } finally {
        this.#reloading = undefined;
      }
    })();
    return this.#reloading;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #startTimer(): void {
    const ms = this.#opts.refreshMs ?? 0;
    if (ms <= 0 || this.#timer || this.#closed) return;
    this.#timer = setInterval(() => void this.reload(), ms);
    this.#timer.unref();
  }

  /** Reads the sources not read yet (all of them with `force`, or those older than a refresh interval). */
  async #read(sources: ReadonlyMap<string, ApiKeySource>, force: boolean): Promise<void> {
    const now = Date.now();
    if (force) this.#lastReload = now;
    const maxAge = this.#opts.refreshMs || Number.POSITIVE_INFINITY;
    const due = new Map<string, ApiKeySource>();
    for (const s of sources.values()) {
      const id = sourceId(s);
      const prior = this.#reads.get(id);
      if (force || !prior || now - prior.at >= maxAge) due.set(id, s);
    }
    await Promise.all(
      [...due].map(async ([id, s]) => {
        const prior = this.#reads.get(id);
        let next: KeyRead;
        try {
          next = { key: await withTimeout(readApiKey(s, this.#opts.readSecret), READ_TIMEOUT_MS), error: undefined, at: Date.now() };
        } catch (e) {
          // A key read before stays in use while its source cannot be read (an API server away, a Secret being
          // replaced): the pods most likely still take it. The problem is reported all the same.
          next = { key: prior?.key, error: (e as Error).message, at: Date.now() };
        }
        this.#reads.set(id, next);
        this.#report(s, prior, next);
      }),
    );
  }

  /** Logs a change: a key read for the first time or changed (never its value), or a read that fails or recovers. */
  #report(s: ApiKeySource, prior: KeyRead | undefined, next: KeyRead): void {
    const log = this.#opts.log;
    if (!log) return;
    const from = describeApiKeySource(s);
    if (next.error !== undefined && next.error !== prior?.error) {
      log.warn(next.key !== undefined ? 'upstream API key cannot be read again; the key read before is still sent' : "upstream API key cannot be read; requests to the pool's pods carry no key", { source: from, error: next.error });
    } else if (next.error === undefined && next.key !== undefined && (prior?.key !== next.key || prior.error !== undefined)) {
      log.info(prior?.key !== undefined && prior.key !== next.key ? 'upstream API key changed' : 'upstream API key read', { source: from });
    }
  }

  #rebuild(): void {
    const next = new Map<string, PoolCredential>();
    for (const [pool, source] of this.#plan.sources) {
      const read = this.#reads.get(sourceId(source));
      const key = read?.key;
      const authorization = key !== undefined ? `Bearer ${key}` : undefined;
      const prior = this.#byPool.get(pool);
      // The same object while nothing changed, so callers may compare by identity.
      if (prior && prior.authorization === authorization && prior.error === read?.error && prior.source === source) next.set(pool, prior);
      else next.set(pool, { pool, source, authorization, headers: authorization !== undefined ? { authorization } : undefined, error: read?.error ?? (key === undefined ? 'not read yet' : undefined) });
    }
    // Forget reads no pool names any more.
    const used = new Set([...this.#plan.sources.values()].map(sourceId));
    for (const id of this.#reads.keys()) if (!used.has(id)) this.#reads.delete(id);
    this.#byPool = next;
  }
}

function endpointId(podKey: string, port: number): string {
  return `${podKey}|${port}`;
}

function sourceId(s: ApiKeySource): string {
  if (s.kind === 'file') return `file:${s.path}`;
  if (s.kind === 'secret') return `secret:${s.namespace}/${s.name}/${s.key ?? ''}`;
  return `value:${s.origin}`;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
