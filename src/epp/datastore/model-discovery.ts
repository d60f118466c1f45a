/** Learns what each endpoint serves from its `GET /v1/models`, every few seconds and right after a failure. */
import { Client, request } from 'undici';
import { h2cOptions } from '../../upstream/h2c.js';
import { protocolMismatch } from '../../upstream/protocol-mismatch.js';
import { isAuthRefusal, refusalMessage, type EndpointAuth } from '../../upstream/upstream-auth.js';
import type { Datastore } from './datastore.js';
import type { Endpoint } from './endpoint.js';
import { parseModelList } from './model-card.js';

export interface DiscoveryOptions {
  /** How often every endpoint is asked again (ms). */
  intervalMs: number;
  /** Per-request timeout (ms). */
  timeoutMs: number;
  /** Called after any endpoint's models changed, so caches built from them can be dropped. */
  onChange?: () => void;
  onError?: (ep: Endpoint, message: string) => void;
  /** The pools' API keys (src/upstream/upstream-credentials.ts); without it no key is sent. */
  auth?: EndpointAuth;
  /**
   * An endpoint answered 401 or 403: the pod wants an API key the gateway did not send, or refused the one it
   * sent. Called when that starts or its message changes, not on every retry (failing endpoints are asked
   * every second).
   */
  onRefused?: (ep: Endpoint, message: string) => void;
}

export class ModelDiscovery {
  #store: Datastore;
  #opts: DiscoveryOptions;
  /**
   * One client per endpoint, kept while the endpoint is listed (`forget` closes it). Not an undici Agent: an
   * Agent drops an origin's pool once its connections are gone, and a failed connect leaves none, so every
   * attempt at a pod that does not answer built a new pool (about 40 KB promoted into the old generation each,
   * docs/benchmarks.md, "Unreachable pods").
   */
  readonly #clients = new Map<Endpoint, Client>();
  #timer: NodeJS.Timeout | undefined;
  /** One fetch per endpoint at a time; a burst of failures must not become a burst of probes. */
  #pending = new Map<Endpoint, Promise<void>>();

  constructor(store: Datastore, opts: DiscoveryOptions) {
    this.#store = store;
    this.#opts = opts;
  }

  /**
   * Ticks every second at most. Endpoints that answered are asked once per `intervalMs`. One that has not
   * answered yet, or whose last answer failed, is asked on the next tick, then after 2 s, 4 s ... up to
   * `intervalMs` while it keeps failing (`ep.modelsRetry`): without the fast retry a gateway started before its
   * pods would refuse their models for a whole interval, and without the backoff every listed pod that does not
   * answer would cost a connection attempt (and an undici pool, which its Agent drops after a failed connect)
   * every second.
   */
  start(): void {
    this.stop();
    const tick = Math.min(this.#opts.intervalMs, 1000);
    this.#timer = setInterval(() => {
      const now = Date.now();
      const due = [...this.#store.endpoints()].filter((ep) =>
        !ep.models || ep.modelsError !== undefined ? ep.modelsRetry.due(now + tick / 2) : now - ep.modelsFetchedAt >= this.#opts.intervalMs - tick / 2,
      );
      void this.refreshAll(due);
    }, tick);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async close(): Promise<void> {
    this.stop();
    await Promise.allSettled(this.#pending.values());
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.allSettled(clients.map((c) => c.close()));
  }

  /** Closes the connection kept for an endpoint that left the datastore (a request in flight on it finishes first). */
  forget(ep: Endpoint): void {
    const c = this.#clients.get(ep);
    if (!c) return;
    this.#clients.delete(ep);
    void c.close().catch(() => undefined);
  }

  #clientOf(ep: Endpoint): Client {
    let c = this.#clients.get(ep);
    if (!c) {
      c = new Client(ep.origin, { keepAliveTimeout: 10_000, ...(ep.h2c ? h2cOptions(undefined) : {}) });
      this.#clients.set(ep, c);
    }
    return c;
  }

  refreshAll(endpoints: Iterable<Endpoint> = this.#store.endpoints()): Promise<void> {
    return Promise.all([...endpoints].map((ep) => this.refresh(ep))).then(() => undefined);
  }

  refresh(ep: Endpoint): Promise<void> {
    let p = this.#pending.get(ep);
    if (!p) {
      p = this.#fetch(ep).finally(() => this.#pending.delete(ep));
      this.#pending.set(ep, p);
    }
    return p;
  }

  #failed(ep: Endpoint): void {
    ep.modelsRetry.failed(Date.now(), Math.min(RETRY_BASE_MS, this.#opts.intervalMs), Math.max(this.#opts.intervalMs, RETRY_BASE_MS));
  }

  async #fetch(ep: Endpoint): Promise<void> {
    const before = modelsSignature(ep);
    const url = `${ep.origin}/v1/models`;
    try {
      const res = await request(url, {
        dispatcher: this.#clientOf(ep),
        headers: this.#opts.auth?.headersFor(ep),
        headersTimeout: this.#opts.timeoutMs,
        bodyTimeout: this.#opts.timeoutMs,
        signal: AbortSignal.timeout(this.#opts.timeoutMs),
      });
      const text = await res.body.text();
      if (isAuthRefusal(res.statusCode)) {
        // Reachable, but it will not say what it serves without the right key: a warning, not a silent loss.
        const prior = ep.modelsRefused !== 0 ? ep.modelsError : undefined;
        ep.modelsRefused = res.statusCode;
        ep.modelsError = this.#opts.auth?.refused(ep, url, res.statusCode) ?? refusalMessage(url, res.statusCode, undefined, undefined);
        ep.markReachable();
        if (ep.modelsError !== prior) this.#opts.onRefused?.(ep, ep.modelsError);
        this.#opts.onError?.(ep, ep.modelsError);
      } else {
        if (res.statusCode !== 200) throw new Error(`GET /v1/models answered ${res.statusCode}`);
        ep.setModels(parseModelList(JSON.parse(text)), Date.now());
        ep.markReachable();
      }
      ep.protocolMismatch = undefined;
      if (ep.modelsError === undefined) ep.modelsRetry.succeeded();
      else this.#failed(ep);
    } catch (e) {
      const err = e as Error & { code?: string };
      ep.modelsRefused = 0;
      ep.protocolMismatch = protocolMismatch(err, ep.h2c);
      ep.modelsError = `GET ${url} failed: ${ep.protocolMismatch ?? `${err.code ?? err.name}: ${err.message}`}`;
      this.#failed(ep);
      this.#opts.onError?.(ep, ep.modelsError);
    }
    if (modelsSignature(ep) !== before) {
      this.#store.invalidateCatalog();
      this.#opts.onChange?.();
    }
  }
}

/** The first retry after a failure waits one tick (1 s); later ones double, up to the refresh interval. */
const RETRY_BASE_MS = 1000;

/**
 * What the endpoint serves, as a string that changes exactly when a model or an adapter's base does, or when
 * it starts or stops refusing the gateway's key (the catalog lists refusing pods for the 404's message).
 */
function modelsSignature(ep: Endpoint): string | undefined {
  const models = ep.models ? [...ep.models.values()].map((c) => `${c.id}<${c.parent ?? ''}`).join(',') : undefined;
  return ep.modelsRefused !== 0 ? `${models ?? ''} refused ${ep.modelsRefused}` : models;
}
