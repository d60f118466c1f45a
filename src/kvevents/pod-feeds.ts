/**
 * The event side of one KV-event setting: per pod a ZMQ subscription feeding a PodStream (sequencing, gaps,
 * replays, floods), whose batches the ingestor turns into index writes. No knowledge of which thread it runs on:
 * the request thread runs it over the block index itself, the ingestion worker over an index-op encoder.
 */
import type { BlockKeyHasher } from './block-key.js';
import { INGEST_PROBLEM_DETAIL, type KvEventIngestor, type IngestProblem } from './event-ingestor.js';
import type { KvEventsSettings } from './kv-events-settings.js';
import { PodStream } from './pod-stream.js';
import type { PodStreamOptions, StreamProblem } from './pod-stream-contract.js';
import { parseKvEventTopic, type DecodedKvEventBatch } from './wire-format.js';
import { ZmqSubscription, type FrameHandler, type ReplayLimiter, type SubscriptionOptions } from './zmq-subscription.js';

/** `topic-model`: the topic's model is not the one the pod serves, so no request's keys can match its blocks. */
export type FeedProblem = StreamProblem | IngestProblem | 'topic-model';

/** Where a pod's events come from, as plain data (it crosses to the worker). */
export interface FeedEndpoints {
  /** `tcp://ip:port` of its PUB socket; empty when it only reaches us through a bound socket (central mode). */
  readonly endpoint: string;
  readonly replayEndpoint?: string;
}

/** What the feeds tell their owner: problems (to count and log once), ZMQ failures, reconnection attempts. */
export interface FeedReporter {
  problem(pod: number, p: FeedProblem, detail: string, n: number): void;
  zmqError(pod: number, operation: string, error: unknown): void;
  reconnectAttempt(pod: number): void;
  /** The central socket could not be bound. */
  bindFailed(endpoint: string, error: unknown): void;
  /** The central socket got a message whose topic names no pod it feeds (said once per setting: log it). */
  strayTopic(endpoint: string, topic: string): void;
}

export interface PodFeedsOptions {
  limiter: ReplayLimiter;
  stream?: Partial<PodStreamOptions>;
  subscription?: Partial<SubscriptionOptions>;
  now?: () => number;
}

class Live {
  readonly pod: number;
  readonly address: string;
  readonly stream: PodStream;
  subscription: ZmqSubscription | undefined;
  /** The model of the last topic seen (replies of an older vLLM's replay carry no topic). */
  model: string | null = null;
  /** The topic model and base model last compared (`topic-model`), so each pair is judged once. */
  checkedModels = '';
  /** The one base model the pod serves, for replayed stores before its first live topic. */
  readonly baseModel: () => string | null;

  constructor(pod: number, address: string, baseModel: () => string | null, stream: (live: Live) => PodStream) {
    this.pod = pod;
    this.address = address;
    this.baseModel = baseModel;
    this.stream = stream(this);
  }
}

export class PodFeeds {
  readonly settings: KvEventsSettings;
  readonly ingestor: KvEventIngestor;
  readonly #reporter: FeedReporter;
  readonly #o: PodFeedsOptions;
  readonly #now: () => number;
  /** By pod: the index's pod id in-thread, the feed id in the worker. */
  readonly #live = new Map<number, Live>();
  readonly #byAddress = new Map<string, Live>();
  #bound: ZmqSubscription | undefined;
  #strayTopicSeen = false;
  #closed = false;

  constructor(settings: KvEventsSettings, ingestor: KvEventIngestor, reporter: FeedReporter, options: PodFeedsOptions) {
    this.settings = settings;
    this.ingestor = ingestor;
    this.#reporter = reporter;
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  get hasher(): BlockKeyHasher {
    return this.ingestor.hasher;
  }

  /** Subscribes to the pod (`pod` names it in every write and report); returns its stream. */
  add(pod: number, address: string, target: FeedEndpoints, baseModel: () => string | null): PodStream {
    const live = new Live(pod, address, baseModel, (l) => new PodStream(this.#sinkFor(l), { silentMs: this.settings.silenceTimeoutMs, ...this.#o.stream, replay: target.replayEndpoint !== undefined }, this.#now));
    this.#live.set(pod, live);
    this.#byAddress.set(address, live);
    if (target.endpoint !== '' && !this.#closed) {
      const sub = new ZmqSubscription({ endpoint: target.endpoint, ...(target.replayEndpoint ? { replayEndpoint: target.replayEndpoint } : {}), topicFilter: this.settings.topicFilter }, live.stream, this.#o.limiter, {
        ...this.#o.subscription,
        onError: (op, e) => this.#reporter.zmqError(pod, op, e),
        onReconnectAttempt: () => this.#reporter.reconnectAttempt(pod),
      });
      live.subscription = sub;
      sub.start().catch((e: unknown) => this.#reporter.zmqError(pod, 'connect', e));
    }
    if (this.settings.zmqEndpoint !== '' && !this.#bound && !this.#closed) this.#bindCentral();
    return live.stream;
  }

  /** Unsubscribes; the ingestor forgets the pod (the caller drops its index entries). */
  remove(pod: number): void {
    const live = this.#live.get(pod);
    if (!live) return;
    this.#live.delete(pod);
    if (this.#byAddress.get(live.address) === live) this.#byAddress.delete(live.address);
    void live.subscription?.close();
    this.ingestor.clearPod(pod);
  }

  stream(pod: number): PodStream | undefined {
    return this.#live.get(pod)?.stream;
  }

  subscribed(pod: number): boolean {
    return this.#live.get(pod)?.subscription !== undefined;
  }

  pods(): IterableIterator<number> {
    return this.#live.keys();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const subs = [...this.#live.values()].flatMap((l) => (l.subscription ? [l.subscription] : []));
    if (this.#bound) subs.push(this.#bound);
    await Promise.allSettled(subs.map((s) => s.close()));
  }

  /**
   * The stream's side effects for one pod: ingestion, clearing, replay, and problem reports. Once the pod is removed
   * they do nothing: its subscription closes asynchronously, and a replay that ends then would apply the messages it
   * kept to the pod's number, which the next pod may have been given already.
   */
  #sinkFor(live: Live): ConstructorParameters<typeof PodStream>[0] {
    const gone = (): boolean => this.#live.get(live.pod) !== live;
    return {
      apply: (topic: string | null, batch: DecodedKvEventBatch) => {
        if (gone()) return;
        if (topic !== null) {
          // A topic naming no model (`kv@<pod>@`) is read as one without: the pod's base model keys its blocks.
          live.model = parseKvEventTopic(topic)?.model || null;
          this.#checkTopicModel(live);
        }
        // A replay reply carries no topic: before the pod's first live message, its blocks are keyed by the base
        // model the pod serves (its GET /v1/models), so a restarted gateway learns what the pods already hold.
        const model = live.model ?? live.baseModel();
        this.ingestor.apply(live.pod, model, batch, (p) => this.#reporter.problem(live.pod, p, INGEST_PROBLEM_DETAIL[p], 1));
      },
      clear: () => {
        if (!gone()) this.ingestor.clearPod(live.pod);
      },
      replay: (from: number) => {
        if (live.subscription && !gone()) live.subscription.replay(from);
        else queueMicrotask(() => live.stream.replayEnd(false));
      },
      problem: (p: StreamProblem, detail: string, n = 1) => {
        if (!gone()) this.#reporter.problem(live.pod, p, detail, n);
      },
    };
  }

  /**
   * Blocks are keyed by the topic's model, requests by the model they name: when vLLM's topic names another model
   * than the one the pod serves (its HF path where clients send its `--served-model-name`, say), no request can
   * ever match the pod's blocks, and nothing else would say so.
   */
  #checkTopicModel(live: Live): void {
    const topicModel = live.model;
    const base = live.baseModel();
    if (topicModel === null || base === null) return;
    const pair = `${topicModel}\n${base}`;
    if (pair === live.checkedModels) return;
    live.checkedModels = pair;
    if (topicModel === base) return;
    this.#reporter.problem(live.pod, 'topic-model', `its topic keys the blocks by model \`${topicModel}\`, but the pod serves \`${base}\` (GET /v1/models), the name requests use: none of them can match its blocks; set vLLM's topic to kv@<pod ip:port>@${base}`, 1);
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
        const text = frames.length === 3 ? Buffer.from(frames[0]!).toString('utf8') : '';
        const topic = parseKvEventTopic(text);
        const live = topic ? this.#liveOfTopicPod(topic.pod) : undefined;
        if (live) return live.stream.live(frames);
        // Messages of pods not in any pool that uses these settings (or unreadable topics) have nowhere to go; the
        // first is told, as a topic naming pods otherwise than the pools do (a pod name) would drop every one.
        if (!this.#strayTopicSeen) {
          this.#strayTopicSeen = true;
          this.#reporter.strayTopic(this.settings.zmqEndpoint, frames.length === 3 ? text : `(a message of ${frames.length} frames)`);
        }
      },
    };
    const endpoint = this.settings.zmqEndpoint;
    this.#bound = new ZmqSubscription({ endpoint, topicFilter: this.settings.topicFilter, bind: true }, handler, this.#o.limiter, this.#o.subscription);
    this.#bound.start().catch((e: unknown) => this.#reporter.bindFailed(endpoint, e));
  }

  /** The feed a central-mode topic's pod names: `ip:port` as an endpoint address, or a bare IP. */
  #liveOfTopicPod(pod: string): Live | undefined {
    const exact = this.#byAddress.get(pod);
    if (exact) return exact;
    for (const l of this.#live.values()) if (l.address.startsWith(`${pod}:`)) return l;
    return undefined;
  }
}

/** The one line said of the first central-mode message that names no pod of the pools. */
export function strayTopicMessage(endpoint: string, topic: string): string {
  return `KV events on ${endpoint}: a message with topic ${JSON.stringify(topic)} names no endpoint of the pools using this config, and was dropped (as are any others; this is said once): a pod's vLLM topic must be kv@<pod ip:port>@<model>, its address as the pool lists it`;
}
