/** Learns what each endpoint serves from its `GET /v1/models`, every few seconds and right after a failure. */
import { request } from 'undici';
import { OriginClients } from '../../upstream/origin-clients.js';
import { protocolMismatch } from '../../upstream/protocol-mismatch.js';
import { isAuthRefusal, refusalMessage, type EndpointAuth } from '../../upstream/upstream-auth.js';
import type { Datastore } from './datastore.js';
import type { Endpoint } from './endpoint.js';
import { parseModelList, type ModelCard } from '../../api/model-card.js';

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

/** The first retry after a failure waits one tick (1 s); later ones double, up to the refresh interval. */
const RETRY_BASE_MS = 1000;

export class ModelDiscovery {
  #store: Datastore;
  #opts: DiscoveryOptions;
  /** One connection a pod, kept while the pod is asked (src/upstream/origin-clients.ts says why not an Agent). */
  readonly #clients = new OriginClients({ connections: 1, keepAliveTimeoutMs: 10_000 });
  /** A failing endpoint's first wait and longest wait (ms): one tick, doubling up to the refresh interval. */
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** One fetch per endpoint at a time; a burst of failures must not become a burst of probes. */
  #pending = new Map<Endpoint, Promise<void>>();

  constructor(store: Datastore, opts: DiscoveryOptions) {
    this.#store = store;
    this.#opts = opts;
    this.#retryBaseMs = Math.min(RETRY_BASE_MS, opts.intervalMs);
    this.#retryMaxMs = Math.max(opts.intervalMs, RETRY_BASE_MS);
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
    await this.#clients.close();
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
    ep.modelsRetry.failed(Date.now(), this.#retryBaseMs, this.#retryMaxMs);
  }

  async #fetch(ep: Endpoint): Promise<void> {
    const before = modelsSignature(ep);
    const url = `${ep.origin}/v1/models`;
    try {
      const res = await request(url, {
        dispatcher: this.#clients.of(ep.origin, ep.h2c),
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
        const cards = modelListOf(text);
        if (cards !== undefined) ep.setModels(cards, Date.now());
        else unlisted(ep);
        ep.markReachable();
      }
      ep.protocolMismatch = undefined;
      if (ep.modelsError === undefined) ep.modelsRetry.succeeded();
      else this.#failed(ep);
    } catch (e) {
      const err = e as Error & { code?: string };
      ep.modelsRefused = 0;
      ep.modelsUnlisted = false;
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

/** A 200 answer's model list; undefined when the body is not one (not JSON, or no `data` array). */
function modelListOf(text: string): ModelCard[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  return Array.isArray((json as { data?: unknown } | null)?.data) ? parseModelList(json) : undefined;
}

/** The endpoint answered, but not with a model list: it serves whatever it is sent (Endpoint.modelsUnlisted). */
function unlisted(ep: Endpoint): void {
  ep.models = undefined;
  ep.modelsUnlisted = true;
  ep.modelsError = undefined;
  ep.modelsRefused = 0;
  ep.modelsFetchedAt = Date.now();
}

/**
 * What the endpoint serves, as a string that changes exactly when a model or an adapter's base does, or when
 * it starts or stops refusing the gateway's key (the catalog lists refusing pods for the 404's message).
 */
function modelsSignature(ep: Endpoint): string | undefined {
  const models = ep.models ? [...ep.models.values()].map((c) => `${c.id}<${c.parent ?? ''}`).join(',') : undefined;
  if (ep.modelsUnlisted) return 'unlisted';
  return ep.modelsRefused !== 0 ? `${models ?? ''} refused ${ep.modelsRefused}` : models;
}
