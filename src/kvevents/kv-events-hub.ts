/**
 * The process's KV-event subscriptions: one view (index + feeds) per distinct setting, shared by every plugin
 * instance with that setting (pools, config reloads), synced to the endpoints of the pools that use it. Owned by
 * the gateway; plugins built by `explain` or `validate` never see it, so they open no socket.
 */
import type { Logger } from '../observability/logger.js';
import { KvCacheView, type FeedTarget } from './kv-cache-view.js';
import { settingsKey, type KvEventsSettings } from './kv-events-settings.js';
import type { PodStreamOptions } from './pod-stream.js';
import { ReplayLimiter, type SubscriptionOptions } from './zmq-subscription.js';

export interface KvEventsHubOptions {
  log: Logger;
  /** Stream tuning (recovery time, flood limits); the defaults suit production, tests shorten them. */
  stream?: Partial<PodStreamOptions>;
  subscription?: Partial<SubscriptionOptions>;
}

export class KvEventsHub {
  readonly #o: KvEventsHubOptions;
  readonly #limiter = new ReplayLimiter();
  readonly #views = new Map<string, KvCacheView>();

  constructor(options: KvEventsHubOptions) {
    this.#o = options;
  }

  /** The view of these settings, made (without any subscription yet) on first use. */
  view(settings: KvEventsSettings): KvCacheView {
    const key = settingsKey(settings);
    let v = this.#views.get(key);
    if (!v) {
      v = new KvCacheView(settings, { log: this.#o.log, limiter: this.#limiter, ...(this.#o.stream ? { stream: this.#o.stream } : {}), ...(this.#o.subscription ? { subscription: this.#o.subscription } : {}) });
      this.#views.set(key, v);
    }
    return v;
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
  }
}
