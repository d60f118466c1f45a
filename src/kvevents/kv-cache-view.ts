/**
 * What the gateway knows of the pods' KV caches under one setting (block size, seed, index bounds, ports): the
 * block index and one feed per pod. Plugins look up a request's keys here, learn which pods' views are trusted,
 * and add speculative entries, all synchronously on the request thread. The events that fill the index are read,
 * decoded and hashed either here (in-thread) or in the ingestion worker, which posts index writes back.
 */
import type { Logger } from '../logger.js';
import { PROMETHEUS_DEFAULT } from '../observability/metrics/buckets.js';
import { HistogramSeries } from '../observability/metrics/histogram-family.js';
import { BlockIndex, type LookupResult } from './block-index.js';
import { TIER_SPECULATIVE } from './device-tiers.js';
import { BlockKeyHasher, type BlockKeys } from './block-key.js';
import { KvEventIngestor } from './event-ingestor.js';
import { applyIndexOps } from './index-ops.js';
import type { FeedStatus } from './ingest-protocol.js';
import type { IngestWorker, WorkerView } from './ingest-worker-client.js';
import type { KvEventsSettings } from './kv-events-settings.js';
import { PodFeed, StreamMirror, type FeedTarget } from './pod-feed.js';
import { PodFeeds, strayTopicMessage, type FeedProblem, type FeedReporter } from './pod-feeds.js';
import type { PodStreamOptions, UntrustedReason } from './pod-stream-contract.js';
import type { ReplayLimiter, SubscriptionOptions } from './zmq-subscription.js';

export { PodFeed, type FeedTarget } from './pod-feed.js';
export type { FeedProblem } from './pod-feeds.js';

export interface KvCacheViewOptions {
  log: Logger;
  limiter: ReplayLimiter;
  stream?: Partial<PodStreamOptions>;
  subscription?: Partial<SubscriptionOptions>;
  now?: () => number;
  /** Ingest in this worker instead of on the calling thread (`stream`, `subscription`, `now` then go unused). */
  worker?: IngestWorker;
}

/** How often the set of untrusted pods is recomputed at most (ms): trust changes on a scale of seconds. */
const TRUST_REFRESH_MS = 50;

export class KvCacheView implements WorkerView {
  readonly settings: KvEventsSettings;
  readonly hasher: BlockKeyHasher;
  readonly index: BlockIndex;
  /** In-thread ingestion into the index (also what tests and benchmarks feed batches to directly). */
  readonly ingestor: KvEventIngestor;
  /**
   * Seconds per lookup (`llm_d_epp_kv_cache_index_lookup_latency_seconds`, llm-d's buckets): two clock reads and
   * a bucket search on the request path, about 0.3 µs measured on a busy 2-vCPU machine beside a 4,000-token
   * lookup's 15 µs median (docs/benchmarks.md).
   */
  readonly lookupLatency = new HistogramSeries(PROMETHEUS_DEFAULT);
  readonly #o: KvCacheViewOptions;
  readonly #now: () => number;
  readonly #feeds = new Map<string, PodFeed>();
  /** In-thread: by index pod id. In the worker: by feed id. */
  readonly #byKey = new Map<number, PodFeed>();
  /** In-thread ingestion; undefined when the worker ingests. */
  readonly #local: PodFeeds | undefined;
  readonly #worker: { client: IngestWorker; id: number } | undefined;
  #untrusted = new Map<string, UntrustedReason>();
  #trustCheckedAt = -Infinity;
  readonly #speculative: { at: number; podId: number; address: string; keys: BlockKeys }[] = [];
  #specHead = 0;
  #closed = false;

  constructor(settings: KvEventsSettings, options: KvCacheViewOptions) {
    this.settings = settings;
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.hasher = new BlockKeyHasher(settings);
    this.index = new BlockIndex({ capacity: settings.capacity, podsPerKey: settings.podsPerKey, tierWeights: settings.tierWeights });
    this.ingestor = new KvEventIngestor(this.hasher, this.index, { engineCapacity: settings.capacity });
    if (options.worker) this.#worker = { client: options.worker, id: options.worker.register(this) };
    else this.#local = new PodFeeds(settings, this.ingestor, this.#localReporter(), { limiter: options.limiter, ...(options.stream ? { stream: options.stream } : {}), ...(options.subscription ? { subscription: options.subscription } : {}), now: this.#now });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Where events are decoded: `worker` or `in-thread`. */
  get ingestion(): 'worker' | 'in-thread' {
    return this.#worker ? 'worker' : 'in-thread';
  }

  feeds(): IterableIterator<PodFeed> {
    return this.#feeds.values();
  }

  feed(address: string): PodFeed | undefined {
    return this.#feeds.get(address);
  }

  /**
   * Pods whose entries cannot be trusted now, and why (a pod with no feed is not listed: callers check `feed`).
   * Recomputed at most every 50 ms, so a request pays for it only when it changed.
   */
  untrusted(): ReadonlyMap<string, UntrustedReason> {
    const now = this.#now();
    if (now - this.#trustCheckedAt < TRUST_REFRESH_MS) return this.#untrusted;
    this.#trustCheckedAt = now;
    const next = new Map<string, UntrustedReason>();
    for (const f of this.#feeds.values()) {
      const why = this.#closed ? 'disconnected' : f.stream.untrusted();
      if (why !== undefined) next.set(f.address, why);
    }
    this.#untrusted = next;
    return next;
  }

  /** Longest prefix per pod for `keys` (speculative entries included); valid until the next lookup. */
  lookup(keys: BlockKeys): LookupResult {
    const start = performance.now();
    this.#expire(this.#now());
    const r = this.index.lookup(keys);
    this.lookupLatency.observe((performance.now() - start) / 1000);
    return r;
  }

  addressOf(podId: number): string | undefined {
    return this.index.addressOf(podId);
  }

  /** The object the pod at `address` was synced with (`FeedTarget.owner`). */
  ownerOf(address: string): object | undefined {
    return this.#feeds.get(address)?.owner;
  }

  /** Adds `keys` for the pod at `address` for `ttlMs`: a pick is held there until its events confirm it. */
  speculate(keys: BlockKeys, address: string, ttlMs: number): void {
    if (keys.count === 0 || this.#closed) return;
    const now = this.#now();
    this.#expire(now);
    const podId = this.index.podId(address);
    this.index.addKeys(keys, podId, TIER_SPECULATIVE);
    this.#speculative.push({ at: now + ttlMs, podId, address, keys });
  }

  /** The gateway sent the pod a request with blocks it lacks: its events should follow (silence detection). */
  expectEvents(address: string): void {
    this.#feeds.get(address)?.stream.expectEvents();
  }

  /**
   * Subscribes to exactly these pods: new ones get a feed (and a connection), gone ones are closed and their
   * entries dropped, changed targets (a new port annotation) start over.
   */
  sync(wanted: ReadonlyMap<string, FeedTarget>): void {
    if (this.#closed) return;
    for (const [address, f] of this.#feeds) {
      const w = wanted.get(address);
      if (!w || w.endpoint !== f.target.endpoint || w.replayEndpoint !== f.target.replayEndpoint || w.pod !== f.target.pod) this.#removeFeed(f);
    }
    for (const [address, target] of wanted) {
      const f = this.#feeds.get(address);
      if (!f) this.#addFeed(address, target);
      else f.owner = target.owner;
    }
    this.refreshBaseModels();
    this.#trustCheckedAt = -Infinity;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#trustCheckedAt = -Infinity;
    if (this.#worker) this.#worker.client.unregister(this.#worker.id);
    await this.#local?.close();
  }

  // ------------------------------------------------------------------ worker mode (WorkerView)

  /** @internal Index writes the worker posted. */
  applyOps(ops: Int32Array): void {
    if (this.#closed) return;
    applyIndexOps(ops, this.index, (feed) => this.#byKey.get(feed)?.podId ?? -1);
  }

  /** @internal What the worker's ingestor counted since its last post (llm-d's skipped and dedup counters). */
  applyCounts(key: string, n: number): void {
    const counts = this.ingestor.counts;
    counts.set(key, (counts.get(key) ?? 0) + n);
  }

  /** @internal A feed's state as the worker posted it. */
  applyStatus(s: FeedStatus): void {
    const f = this.#byKey.get(s.feed);
    if (!f || this.#closed) return;
    const m = f.stream as StreamMirror;
    m.messages = s.messages;
    m.lastMessageAt = s.lastMessageAt;
    m.replays = s.replays;
    if (m.reason !== (s.untrusted ?? undefined)) this.#trustCheckedAt = -Infinity;
    m.reason = s.untrusted ?? undefined;
    f.subscribed = s.subscribed;
    for (const [p, n, detail] of s.problems ?? []) this.#problem(f, p, detail, n);
    for (const [op, n, message] of s.zmqErrors ?? []) this.#zmqError(f, op, message, n);
    f.reconnectAttempts += s.reconnects ?? 0;
  }

  /** @internal The worker died: the pods' entries may miss removals, and nothing arrives until it is back. */
  workerLost(): void {
    for (const f of this.#feeds.values()) {
      (f.stream as StreamMirror).reason = 'disconnected';
      f.subscribed = false;
      this.index.clearPod(f.podId);
    }
    this.#trustCheckedAt = -Infinity;
  }

  /** @internal A new worker: every feed is subscribed again (its stream starts over, replayed if it can be). */
  resubscribe(): void {
    if (!this.#worker || this.#closed) return;
    for (const f of this.#feeds.values()) this.#worker.client.add(this.#worker.id, f.feedId, f.address, f.target, f.baseModel);
  }

  /** @internal Tells the worker of each pod's base model when it changed (its GET /v1/models answered since). */
  refreshBaseModels(): void {
    if (!this.#worker || this.#closed) return;
    for (const f of this.#feeds.values()) {
      const model = baseModelOf(f.owner);
      if (model === f.baseModel) continue;
      f.baseModel = model;
      this.#worker.client.baseModel(f.feedId, model);
    }
  }

  // ------------------------------------------------------------------ feeds

  #addFeed(address: string, target: FeedTarget): PodFeed {
    const podId = this.index.podId(address);
    let feed: PodFeed;
    if (this.#worker) {
      const { client, id } = this.#worker;
      const feedId = client.feedId();
      feed = new PodFeed(address, podId, feedId, target, new StreamMirror(() => client.expect(feedId), this.#now()));
      feed.baseModel = baseModelOf(target.owner);
      this.#byKey.set(feedId, feed);
      this.#feeds.set(address, feed);
      client.add(id, feedId, address, target, feed.baseModel);
      feed.subscribed = target.endpoint !== '';
    } else {
      const local = this.#local!;
      const stream = local.add(podId, address, target, () => baseModelOf(this.#byKey.get(podId)?.owner));
      feed = new PodFeed(address, podId, -1, target, stream);
      this.#byKey.set(podId, feed);
      this.#feeds.set(address, feed);
      feed.subscribed = local.subscribed(podId);
    }
    return feed;
  }

  #removeFeed(f: PodFeed): void {
    this.#feeds.delete(f.address);
    if (this.#worker) {
      this.#byKey.delete(f.feedId);
      this.#worker.client.remove(f.feedId);
    } else {
      this.#byKey.delete(f.podId);
      this.#local?.remove(f.podId);
    }
    // The pod left (or moved): what it held is gone with it.
    this.index.removePod(f.address);
  }

  /** In-thread: the feeds' reports, straight to the pods' counters and the log. */
  #localReporter(): FeedReporter {
    return {
      problem: (pod, p, detail, n) => {
        const f = this.#byKey.get(pod);
        if (f) this.#problem(f, p, detail, n);
      },
      zmqError: (pod, op, e) => {
        const f = this.#byKey.get(pod);
        if (f) this.#zmqError(f, op, (e as Error)?.message ?? String(e), 1);
      },
      reconnectAttempt: (pod) => {
        const f = this.#byKey.get(pod);
        if (f) f.reconnectAttempts++;
      },
      bindFailed: (endpoint, e) => this.#o.log.error(`cannot bind the KV-event socket ${endpoint}`, { error: (e as Error)?.message ?? String(e) }),
      strayTopic: (endpoint, topic) => this.#o.log.warn(strayTopicMessage(endpoint, topic)),
    };
  }

  #problem(feed: PodFeed, p: FeedProblem, detail: string, n = 1): void {
    if (feed.count(p, n) && detail !== '') {
      // A replay's problem is about the replay socket: name that one, not the PUB socket.
      const zmq = p === 'replay-failed' && feed.target.replayEndpoint ? feed.target.replayEndpoint : feed.target.endpoint || this.settings.zmqEndpoint;
      this.#o.log.warn(`KV events from ${feed.address}: ${detail} (${p}; counted in infergate_kv_events_problems_total, logged once per pod)`, { endpoint: feed.address, problem: p, zmq });
    }
  }

  #zmqError(feed: PodFeed, op: string, message: string, n: number): void {
    const was = feed.zmqErrors.get(op) ?? 0;
    feed.zmqErrors.set(op, was + n);
    const zmq = op.startsWith('replay') && feed.target.replayEndpoint ? feed.target.replayEndpoint : feed.target.endpoint;
    if (was === 0) this.#o.log.warn(`KV events from ${feed.address}: ZMQ ${op} failed`, { endpoint: feed.address, zmq, error: message });
  }

  #expire(now: number): void {
    const q = this.#speculative;
    while (this.#specHead < q.length && (q[this.#specHead] as (typeof q)[number]).at <= now) {
      const e = q[this.#specHead++]!;
      // The id may have gone to another pod since: only the pod it was added for loses it.
      if (this.index.addressOf(e.podId) !== e.address) continue;
      const k = e.keys.keys;
      for (let i = 0; i < e.keys.count; i++) this.index.evict(k[2 * i] as number, k[2 * i + 1] as number, e.podId, TIER_SPECULATIVE);
    }
    if (this.#specHead > 1024 && this.#specHead * 2 > q.length) {
      q.splice(0, this.#specHead);
      this.#specHead = 0;
    }
  }
}

/** What the view reads of a feed's owner (the gateway's Endpoint): the models its pod listed, if known. */
interface ListsModels {
  readonly models?: ReadonlyMap<string, { readonly parent: string | null }> | undefined;
}

/** The one base model (no parent) the owner's pod serves; null when unknown or when it lists several. */
export function baseModelOf(owner: object | undefined): string | null {
  const models = (owner as ListsModels | undefined)?.models;
  if (!models) return null;
  let base: string | null = null;
  for (const [id, card] of models) {
    if (card.parent !== null) continue;
    if (base !== null) return null;
    base = id;
  }
  return base;
}
