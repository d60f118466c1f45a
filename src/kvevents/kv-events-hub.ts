/**
 * The process's KV-event subscriptions: one view (index + feeds) per distinct setting, shared by every plugin
 * instance with that setting (pools, config reloads), synced to the endpoints of the pools that use it. Owned by
 * the gateway; plugins built by `explain` or `validate` never see it, so they open no socket. Events are ingested
 * in one worker thread for every view (the default) or on the request thread (`ingestion: 'in-thread'`).
 */
import type { Logger } from '../logger.js';
import { IngestWorker } from './ingest-worker-client.js';
import { KvCacheView, type FeedTarget } from './kv-cache-view.js';
import { settingsKey, type KvEventsSettings } from './kv-events-settings.js';
import type { PodStreamOptions } from './pod-stream-contract.js';
import { ReplayLimiter, type SubscriptionOptions } from './zmq-subscription.js';

/** Where KV events are read, decoded and hashed (`--kv-events-ingestion`). */
export type KvEventsIngestion = 'worker' | 'in-thread';
export const KV_EVENTS_INGESTION_MODES: readonly KvEventsIngestion[] = ['worker', 'in-thread'];
export const DEFAULT_KV_EVENTS_INGESTION: KvEventsIngestion = 'worker';

export interface KvEventsHubOptions {
  log: Logger;
  /** Stream tuning (recovery time, flood limits); the defaults suit production, tests shorten them. */
  stream?: Partial<PodStreamOptions>;
  subscription?: Partial<Omit<SubscriptionOptions, 'onError' | 'onReconnectAttempt'>>;
  /** Default `worker`: off the request thread, which keeps only the index and applies the worker's writes. */
  ingestion?: KvEventsIngestion;
  /** The worker's first restart delay after it died (ms; tests shorten it). */
  workerRestartMs?: number;
}

export class KvEventsHub {
  readonly #o: KvEventsHubOptions;
  readonly #limiter = new ReplayLimiter();
  readonly #views = new Map<string, KvCacheView>();
  #worker: IngestWorker | undefined;

  constructor(options: KvEventsHubOptions) {
    this.#o = options;
  }

  get ingestion(): KvEventsIngestion {
    return this.#o.ingestion ?? DEFAULT_KV_EVENTS_INGESTION;
  }

  /** The ingestion worker, once a view needed it. */
  get worker(): IngestWorker | undefined {
    return this.#worker;
  }

  /** The view of these settings, made (without any subscription yet) on first use. */
  view(settings: KvEventsSettings): KvCacheView {
    const key = settingsKey(settings);
    let v = this.#views.get(key);
    if (!v) {
      const o = this.#o;
      const tuning = { ...(o.stream ? { stream: o.stream } : {}), ...(o.subscription ? { subscription: o.subscription } : {}) };
      if (this.ingestion === 'worker') this.#worker ??= new IngestWorker({ log: o.log, tuning, ...(o.workerRestartMs !== undefined ? { restartMs: o.workerRestartMs } : {}) });
      v = new KvCacheView(settings, { log: o.log, limiter: this.#limiter, ...tuning, ...(this.#worker ? { worker: this.#worker } : {}) });
      this.#views.set(key, v);
    }
    return v;
  }

  /** The view of these settings if one is in use; never makes one (readers such as the dashboard). */
  find(settings: KvEventsSettings): KvCacheView | undefined {
    return this.#views.get(settingsKey(settings));
  }

  views(): IterableIterator<KvCacheView> {
    return this.#views.values();
  }

  /** Syncs each wanted view to its pods, and closes the views nobody uses any more (their index goes with them). */
  reconcile(wanted: ReadonlyMap<KvCacheView, ReadonlyMap<string, FeedTarget>>): void {
    for (const [key, v] of this.#views) {
      const pods = wanted.get(v);
      if (pods) v.sync(pods);
      else {
        this.#views.delete(key);
        void v.close();
      }
    }
  }

  async close(): Promise<void> {
    const views = [...this.#views.values()];
    this.#views.clear();
    await Promise.allSettled(views.map((v) => v.close()));
    await this.#worker?.close();
  }
}
