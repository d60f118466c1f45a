/**
 * The KV-event ingestion worker (a worker_threads entry): the ZMQ sockets, sequencing, gaps and replays, msgpack
 * decoding and block-key hashing of every pod, off the request thread. Every few milliseconds it posts the index
 * writes (one transferred Int32Array per setting) and the pods whose state changed; the request thread owns the
 * index and applies them. Started by IngestWorker (ingest-worker-client.ts); it never logs by itself.
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import { BlockKeyHasher } from './block-key.js';
import { KvEventIngestor } from './event-ingestor.js';
import { IndexOpEncoder } from './index-ops.js';
import type { FeedStatus, FromWorker, IngestTuning, ToWorker } from './ingest-protocol.js';
import { PodFeeds, strayTopicMessage, type FeedProblem, type FeedReporter } from './pod-feeds.js';
import type { UntrustedReason } from './pod-stream-contract.js';
import { ReplayLimiter } from './zmq-subscription.js';

/** How often trust (which changes with time: recovery, floods, silence) is re-checked and counters refreshed (ms). */
const CHECK_MS = 50;
/**
 * Writes are posted this long after the first of them (ms): one post per few milliseconds instead of one per
 * event-loop turn, since each post costs the request thread a message event whatever it carries.
 */
const FLUSH_DELAY_MS = 5;
/** A pod's message count and last-message time are posted at most this often when nothing else changed (ms). */
const COUNTER_REFRESH_MS = 250;

interface View {
  readonly feeds: PodFeeds;
  readonly ops: IndexOpEncoder;
  /** The ingestor's event counters as last posted, so each post carries the increments. */
  readonly postedCounts: Map<string, number>;
}

/** What is not yet posted about one feed. */
class Pending {
  readonly view: number;
  untrusted: UntrustedReason | null = null;
  messages = -1;
  sentAt = 0;
  subscribed = false;
  changed = true;
  baseModel: string | null;
  readonly problems = new Map<FeedProblem, [number, string]>();
  readonly zmqErrors = new Map<string, [number, string]>();
  reconnects = 0;

  constructor(view: number, baseModel: string | null) {
    this.view = view;
    this.baseModel = baseModel;
  }
}

export class IngestWorkerRuntime {
  readonly #port: MessagePort;
  readonly #limiter = new ReplayLimiter();
  readonly #views = new Map<number, View>();
  readonly #pending = new Map<number, Pending>();
  #tuning: IngestTuning = {};
  #flushQueued = false;
  readonly #timer: NodeJS.Timeout;
  #closing = false;

  constructor(port: MessagePort) {
    this.#port = port;
    port.on('message', (m: ToWorker) => this.#handle(m));
    this.#timer = setInterval(() => this.#flush(), CHECK_MS);
  }

  /**
   * A bug that escaped everything else ends the worker, but only after its sockets are closed: a thread that exits
   * with ZMQ sockets open aborts the whole process (zeromq's native context teardown throws), gateway included.
   */
  die(e: unknown): void {
    if (this.#closing) return;
    this.#post({ t: 'log', level: 'error', message: 'the KV-event ingestion worker failed', fields: { error: (e as Error)?.stack ?? String(e) } });
    // Left to end by itself once closed (process.exit with a ZMQ socket just closed aborts as well).
    void this.#close();
  }

  #handle(m: ToWorker): void {
    switch (m.t) {
      case 'tuning':
        this.#tuning = m.tuning;
        return;
      case 'view': {
        const ops = new IndexOpEncoder(() => this.#queueFlush());
        const ingestor = new KvEventIngestor(new BlockKeyHasher(m.settings), ops, { engineCapacity: m.settings.capacity });
        const feeds = new PodFeeds(m.settings, ingestor, this.#reporter(), { limiter: this.#limiter, ...this.#tuning });
        this.#views.set(m.view, { feeds, ops, postedCounts: new Map() });
        return;
      }
      case 'drop-view': {
        const v = this.#views.get(m.view);
        this.#views.delete(m.view);
        for (const [feed, p] of this.#pending) if (p.view === m.view) this.#pending.delete(feed);
        void v?.feeds.close();
        return;
      }
      case 'add': {
        const v = this.#views.get(m.view);
        if (!v) return;
        const p = new Pending(m.view, m.baseModel);
        this.#pending.set(m.feed, p);
        v.feeds.add(m.feed, m.address, m.target, () => p.baseModel);
        p.subscribed = v.feeds.subscribed(m.feed);
        this.#queueFlush();
        return;
      }
      case 'remove': {
        const p = this.#pending.get(m.feed);
        if (!p) return;
        this.#pending.delete(m.feed);
        this.#views.get(p.view)?.feeds.remove(m.feed);
        return;
      }
      case 'base-model': {
        const p = this.#pending.get(m.feed);
        if (p) p.baseModel = m.model;
        return;
      }
      case 'expect':
        for (const feed of m.feeds) {
          const p = this.#pending.get(feed);
          if (p) this.#views.get(p.view)?.feeds.stream(feed)?.expectEvents();
        }
        this.#queueFlush();
        return;
      case 'close':
        void this.#close();
        return;
      case 'close-now':
        // The process is exiting: the request thread waits (blocked) until the sockets are closed.
        this.closeSockets();
        setTimeout(() => {
          Atomics.store(m.done, 0, 1);
          Atomics.notify(m.done, 0);
        }, 20);
        return;
      case 'crash':
        setImmediate(() => {
          throw new Error('KV-event ingestion worker: crash requested (a test)');
        });
        return;
    }
  }

  #reporter(): FeedReporter {
    const pendingOf = (feed: number): Pending | undefined => {
      const p = this.#pending.get(feed);
      if (p) {
        p.changed = true;
        this.#queueFlush();
      }
      return p;
    };
    return {
      problem: (feed, problem, detail, n) => {
        const p = pendingOf(feed);
        if (!p) return;
        const was = p.problems.get(problem);
        // The first detail of a post is the one logged (when it is the pod's first of the kind).
        if (was) was[0] += n;
        else p.problems.set(problem, [n, detail]);
      },
      zmqError: (feed, op, e) => {
        const p = pendingOf(feed);
        if (!p) return;
        const was = p.zmqErrors.get(op);
        if (was) was[0]++;
        else p.zmqErrors.set(op, [1, (e as Error)?.message ?? String(e)]);
      },
      reconnectAttempt: (feed) => {
        const p = pendingOf(feed);
        if (p) p.reconnects++;
      },
      bindFailed: (endpoint, e) => this.#post({ t: 'log', level: 'error', message: `cannot bind the KV-event socket ${endpoint}`, fields: { error: (e as Error)?.message ?? String(e) } }),
      strayTopic: (endpoint, topic) => this.#post({ t: 'log', level: 'warn', message: strayTopicMessage(endpoint, topic), fields: {} }),
    };
  }

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    setTimeout(() => this.#flush(), FLUSH_DELAY_MS);
  }

  /** Posts the turn's index writes and every feed whose state changed (trust, problems, counters). */
  #flush(): void {
    this.#flushQueued = false;
    const ops: [number, Int32Array][] = [];
    for (const [id, v] of this.#views) if (v.ops.length > 0) ops.push([id, v.ops.take()]);
    const counts: [number, string, number][] = [];
    for (const [id, v] of this.#views) {
      for (const [k, n] of v.feeds.ingestor.counts) {
        const was = v.postedCounts.get(k) ?? 0;
        if (n === was) continue;
        counts.push([id, k, n - was]);
        v.postedCounts.set(k, n);
      }
    }
    const now = Date.now();
    const status: FeedStatus[] = [];
    for (const [feed, p] of this.#pending) {
      const v = this.#views.get(p.view);
      const stream = v?.feeds.stream(feed);
      if (!v || !stream) continue;
      const untrusted = stream.untrusted() ?? null;
      const subscribed = v.feeds.subscribed(feed);
      const countersDue = stream.messages !== p.messages && now - p.sentAt >= COUNTER_REFRESH_MS;
      if (!p.changed && untrusted === p.untrusted && subscribed === p.subscribed && !countersDue) continue;
      const s: FeedStatus = { feed, messages: stream.messages, lastMessageAt: stream.lastMessageAt, untrusted, subscribed, replays: { ...stream.replays } };
      if (p.problems.size > 0) s.problems = [...p.problems].map(([k, [n, d]]) => [k, n, d]);
      if (p.zmqErrors.size > 0) s.zmqErrors = [...p.zmqErrors].map(([k, [n, d]]) => [k, n, d]);
      if (p.reconnects > 0) s.reconnects = p.reconnects;
      p.problems.clear();
      p.zmqErrors.clear();
      p.reconnects = 0;
      p.changed = false;
      p.untrusted = untrusted;
      p.subscribed = subscribed;
      p.messages = stream.messages;
      p.sentAt = now;
      status.push(s);
    }
    if (ops.length === 0 && status.length === 0 && counts.length === 0) return;
    this.#post({ t: 'update', ops, status, ...(counts.length > 0 ? { counts } : {}) }, ops.map(([, a]) => a.buffer as ArrayBuffer));
  }

  /** Closes every socket now (synchronously: ZMQ's close is), for a thread being torn down. */
  closeSockets(): void {
    for (const v of this.#views.values()) void v.feeds.close();
  }

  async #close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#timer);
    await Promise.allSettled([...this.#views.values()].map((v) => v.feeds.close()));
    this.#post({ t: 'closed' });
    this.#port.close();
  }

  #post(m: FromWorker, transfer: ArrayBuffer[] = []): void {
    this.#port.postMessage(m, transfer);
  }
}

if (parentPort) {
  const runtime = new IngestWorkerRuntime(parentPort);
  process.on('uncaughtException', (e) => runtime.die(e));
  process.on('unhandledRejection', (e) => runtime.die(e));
}
