/**
 * What the gateway knows of the pods' KV caches under one setting (block size, seed, index bounds, ports): the
 * block index, the ingestor that feeds it, and one feed per pod (its subscription and stream state). Plugins look
 * up a request's keys here, learn which pods' views are trusted, and add speculative entries.
 */
import type { Logger } from '../observability/logger.js';
import { BlockIndex, TIER_SPECULATIVE, type LookupResult } from './block-index.js';
import { BlockKeyHasher, type BlockKeys } from './block-key.js';
import { KvEventIngestor, type IngestProblem } from './event-ingestor.js';
import type { KvEventsSettings } from './kv-events-settings.js';
import { PodStream, type PodStreamOptions, type StreamProblem, type UntrustedReason } from './pod-stream.js';
import { parseKvEventTopic, type DecodedKvEventBatch } from './wire-format.js';
import { ZmqSubscription, type FrameHandler, type ReplayLimiter, type SubscriptionOptions } from './zmq-subscription.js';

/** Where a pod's events come from. */
export interface FeedTarget {
  /** `tcp://ip:port` of its PUB socket; empty when it only reaches us through a bound socket (central mode). */
  readonly endpoint: string;
  readonly replayEndpoint?: string;
  /** The caller's object for the pod (the gateway's Endpoint), handed back by `ownerOf`: found by identity, not by name. */
  readonly owner?: object;
}

export type FeedProblem = StreamProblem | IngestProblem;

/** One pod's feed: its stream, its subscription, and what went wrong, for metrics. */
export class PodFeed {
  readonly address: string;
  readonly podId: number;
  readonly target: FeedTarget;
  readonly stream: PodStream;
  subscription: ZmqSubscription | undefined;
  /** The caller's object for the pod, as of the last sync. */
  owner: object | undefined;
  /** Occurrences of each problem since the feed started. */
  readonly problems = new Map<FeedProblem, number>();
  readonly zmqErrors = new Map<string, number>();
  reconnectAttempts = 0;
  /** The model of the last topic seen (replies of an older vLLM's replay carry no topic). */
  model: string | null = null;
  readonly #logged = new Set<FeedProblem>();

  constructor(address: string, podId: number, target: FeedTarget, stream: (feed: PodFeed) => PodStream) {
    this.address = address;
    this.podId = podId;
    this.target = target;
    this.owner = target.owner;
    this.stream = stream(this);
  }

  /** Counts a problem; true the first time it is seen for this pod (log it then, once). */
  count(p: FeedProblem, n = 1): boolean {
    this.problems.set(p, (this.problems.get(p) ?? 0) + n);
    if (this.#logged.has(p)) return false;
    this.#logged.add(p);
    return true;
  }
}

export interface KvCacheViewOptions {
  log: Logger;
  limiter: ReplayLimiter;
  stream?: Partial<PodStreamOptions>;
  subscription?: Partial<SubscriptionOptions>;
  now?: () => number;
}

/** How often the set of untrusted pods is recomputed at most (ms): trust changes on a scale of seconds. */
const TRUST_REFRESH_MS = 50;

export class KvCacheView {
  readonly settings: KvEventsSettings;
  readonly hasher: BlockKeyHasher;
  readonly index: BlockIndex;
  readonly ingestor: KvEventIngestor;
  readonly #o: KvCacheViewOptions;
  readonly #now: () => number;
  readonly #feeds = new Map<string, PodFeed>();
  /** The bound socket of central mode, and the pods (by topic) it has heard from. */
  #bound: ZmqSubscription | undefined;
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
  }

  get closed(): boolean {
    return this.#closed;
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
    this.#expire(this.#now());
    return this.index.lookup(keys);
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
      if (!w || w.endpoint !== f.target.endpoint || w.replayEndpoint !== f.target.replayEndpoint) this.#removeFeed(f);
    }
    for (const [address, target] of wanted) {
      const f = this.#feeds.get(address);
      if (!f) this.#addFeed(address, target);
      else f.owner = target.owner;
    }
    if (this.settings.zmqEndpoint !== '' && !this.#bound) this.#bindCentral();
    this.#trustCheckedAt = -Infinity;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const subs = [...this.#feeds.values()].flatMap((f) => (f.subscription ? [f.subscription] : []));
    if (this.#bound) subs.push(this.#bound);
    this.#trustCheckedAt = -Infinity;
    await Promise.allSettled(subs.map((s) => s.close()));
  }

  #addFeed(address: string, target: FeedTarget): PodFeed {
    const podId = this.index.podId(address);
    const feed = new PodFeed(address, podId, target, (f) => new PodStream(this.#sinkFor(f), { ...this.#o.stream, replay: target.replayEndpoint !== undefined }, this.#now));
    this.#feeds.set(address, feed);
    if (target.endpoint !== '') {
      const sub = new ZmqSubscription({ endpoint: target.endpoint, ...(target.replayEndpoint ? { replayEndpoint: target.replayEndpoint } : {}), topicFilter: this.settings.topicFilter }, feed.stream, this.#o.limiter, {
        ...this.#o.subscription,
        onError: (op, e) => this.#zmqError(feed, op, e),
        onReconnectAttempt: () => feed.reconnectAttempts++,
      });
      feed.subscription = sub;
      sub.start().catch((e: unknown) => this.#zmqError(feed, 'connect', e));
    }
    return feed;
  }

  #removeFeed(f: PodFeed): void {
    this.#feeds.delete(f.address);
    void f.subscription?.close();
    // The pod left (or moved): what it held is gone with it.
    this.index.removePod(f.address);
    this.ingestor.clearPod(f.podId);
  }

  /** The stream's side effects for one pod: ingestion, clearing, replay, and problem counting. */
  #sinkFor(feed: PodFeed): ConstructorParameters<typeof PodStream>[0] {
    return {
      apply: (topic: string | null, batch: DecodedKvEventBatch) => {
        if (topic !== null) feed.model = parseKvEventTopic(topic)?.model ?? null;
        // A replay reply carries no topic: before the pod's first live message, its blocks are keyed by the base
        // model the pod serves (its GET /v1/models), so a restarted gateway learns what the pods already hold.
        const model = feed.model ?? baseModelOf(feed.owner);
        this.ingestor.apply(feed.podId, model, batch, (p) => this.#problem(feed, p, 'events skipped'));
      },
      clear: () => this.ingestor.clearPod(feed.podId),
      replay: (from: number) => {
        if (feed.subscription) feed.subscription.replay(from);
        else queueMicrotask(() => feed.stream.replayEnd(false));
      },
      problem: (p: StreamProblem, detail: string, n = 1) => this.#problem(feed, p, detail, n),
    };
  }

  #problem(feed: PodFeed, p: FeedProblem, detail: string, n = 1): void {
    if (feed.count(p, n) && detail !== '') {
      this.#o.log.warn(`KV events from ${feed.address}: ${detail} (${p}; counted in infergate_kv_events_problems_total, logged once per pod)`, { endpoint: feed.address, problem: p, zmq: feed.target.endpoint || this.settings.zmqEndpoint });
    }
  }

  #zmqError(feed: PodFeed, op: string, e: unknown): void {
    feed.zmqErrors.set(op, (feed.zmqErrors.get(op) ?? 0) + 1);
    if ((feed.zmqErrors.get(op) ?? 0) === 1) this.#o.log.warn(`KV events from ${feed.address}: ZMQ ${op} failed`, { endpoint: feed.address, zmq: feed.target.endpoint, error: (e as Error)?.message ?? String(e) });
  }

  /** llm-d's central mode: the gateway binds `zmqEndpoint`, pods connect, the topic names the pod. */
  #bindCentral(): void {
    const handler: FrameHandler = {
      replaying: false,
      connected: () => undefined,
      disconnected: () => undefined,
      replayReply: () => undefined,
      replayEnd: () => undefined,
      live: (frames) => {
        const topic = frames.length === 3 ? parseKvEventTopic(Buffer.from(frames[0]!).toString('utf8')) : null;
        const feed = topic ? this.#feedOfTopicPod(topic.pod) : undefined;
        // Messages of pods not in any pool that uses these settings (or unreadable topics) have nowhere to go.
        if (feed) feed.stream.live(frames);
      },
    };
    this.#bound = new ZmqSubscription({ endpoint: this.settings.zmqEndpoint, topicFilter: this.settings.topicFilter, bind: true }, handler, this.#o.limiter, this.#o.subscription);
    this.#bound.start().catch((e: unknown) => this.#o.log.error(`cannot bind the KV-event socket ${this.settings.zmqEndpoint}`, { error: (e as Error).message }));
  }

  /** The feed a central-mode topic's pod names: `ip:port` as an endpoint address, or a bare IP. */
  #feedOfTopicPod(pod: string): PodFeed | undefined {
    const exact = this.#feeds.get(pod);
    if (exact) return exact;
    for (const f of this.#feeds.values()) if (f.address.startsWith(`${pod}:`)) return f;
    return undefined;
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
