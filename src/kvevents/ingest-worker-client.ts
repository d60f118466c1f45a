/**
 * The request thread's side of the KV-event ingestion worker: starts it, forwards subscriptions as pods come and
 * go, hands each view the index writes and pod states the worker posts, and restarts it (with backoff) if it ever
 * dies: the gateway keeps serving, the pods' precise views are dropped and distrusted until their streams are back.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.js';
import type { FeedStatus, FromWorker, IngestTuning, ToWorker } from './ingest-protocol.js';
import type { KvEventsSettings } from './kv-events-settings.js';
import type { FeedEndpoints } from './pod-feeds.js';

/** A view, as the worker client drives it (KvCacheView in worker mode). */
export interface WorkerView {
  readonly settings: KvEventsSettings;
  /** Applies one post's index writes, in order. */
  applyOps(ops: Int32Array): void;
  /** A feed's state (and problem deltas) as the worker last saw it. */
  applyStatus(s: FeedStatus): void;
  /** What the worker's ingestor counted since its last post (skipped events, deduplicated removals), by counter key (event-ingestor.ts), as llm-d counts them. */
  applyCounts(key: string, n: number): void;
  /** The worker died: what the index holds may now miss removals. */
  workerLost(): void;
  /** A new worker started: subscribe every feed again. */
  resubscribe(): void;
  /** Tells the worker of base models that changed since (GET /v1/models answers between config changes). */
  refreshBaseModels(): void;
}

export interface IngestWorkerOptions {
  log: Logger;
  tuning?: IngestTuning;
  /** First restart delay (ms); doubles per restart up to 30 s, back to this after a minute without one. */
  restartMs?: number;
  /** The worker's module; tests give a broken one. */
  url?: URL;
}

const RESTART_MAX_MS = 30_000;
const STABLE_MS = 60_000;
const BASE_MODEL_REFRESH_MS = 1000;
/**
 * How long close waits for the worker to close its sockets and end (ms). It is never terminated: a thread torn
 * down with ZMQ sockets open aborts the whole process (zeromq.js issue #411), so it is always asked to close them.
 */
const CLOSE_TIMEOUT_MS = 2000;

export class IngestWorker {
  readonly #o: IngestWorkerOptions;
  readonly #views = new Map<number, WorkerView>();
  readonly #feedViews = new Map<number, WorkerView>();
  #nextView = 1;
  #nextFeed = 1;
  #worker: Worker | undefined;
  #startedAt = 0;
  #delay: number;
  #restartTimer: NodeJS.Timeout | undefined;
  readonly #refreshTimer: NodeJS.Timeout;
  #expects: number[] = [];
  #closing: Promise<void> | undefined;
  readonly #onExit = (): void => this.#closeNow();
  /** Times the worker died and was restarted, for metrics. */
  restarts = 0;

  constructor(options: IngestWorkerOptions) {
    this.#o = options;
    this.#delay = options.restartMs ?? 200;
    this.#refreshTimer = setInterval(() => {
      for (const v of this.#views.values()) v.refreshBaseModels();
    }, BASE_MODEL_REFRESH_MS).unref();
    // An exit without close (process.exit elsewhere) must still close the worker's sockets first.
    process.on('exit', this.#onExit);
    this.#start();
  }

  /** Whether a worker is running now. */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  /** The id the worker knows `view` by. */
  register(view: WorkerView): number {
    const id = this.#nextView++;
    this.#views.set(id, view);
    this.#send({ t: 'view', view: id, settings: view.settings });
    return id;
  }

  unregister(id: number): void {
    const v = this.#views.get(id);
    if (!v) return;
    this.#views.delete(id);
    for (const [feed, fv] of this.#feedViews) if (fv === v) this.#feedViews.delete(feed);
    this.#send({ t: 'drop-view', view: id });
  }

  /** A feed id: unique for the process, never reused, so late messages about a removed pod are recognised. */
  feedId(): number {
    return this.#nextFeed++;
  }

  add(view: number, feed: number, address: string, target: FeedEndpoints, baseModel: string | null): void {
    const v = this.#views.get(view);
    if (!v) return;
    this.#feedViews.set(feed, v);
    this.#send({ t: 'add', view, feed, address, target: { endpoint: target.endpoint, ...(target.replayEndpoint !== undefined ? { replayEndpoint: target.replayEndpoint } : {}) }, baseModel });
  }

  remove(feed: number): void {
    this.#feedViews.delete(feed);
    this.#send({ t: 'remove', feed });
  }

  baseModel(feed: number, model: string | null): void {
    this.#send({ t: 'base-model', feed, model });
  }

  /** Queued, and sent once per event-loop turn: a request pays an array push, not a postMessage. */
  expect(feed: number): void {
    if (this.#expects.push(feed) > 1) return;
    setImmediate(() => {
      const feeds = this.#expects;
      this.#expects = [];
      this.#send({ t: 'expect', feeds });
    });
  }

  /** Tests: makes the worker throw. */
  crashForTest(): void {
    this.#send({ t: 'crash' });
  }

  /** Closes every socket in the worker, then the worker; a worker that does not answer in time is terminated. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#refreshTimer);
    clearTimeout(this.#restartTimer);
    const w = this.#worker;
    if (!w) {
      process.off('exit', this.#onExit);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const exited = new Promise<boolean>((resolve) => w.once('exit', () => resolve(true)));
    w.postMessage({ t: 'close' } satisfies ToWorker);
    const ended = await Promise.race([exited, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS)))]);
    clearTimeout(timer);
    if (!ended) {
      // Left running (it is unref'd, and the exit hook closes its sockets should the process end).
      this.#o.log.warn(`the KV-event ingestion worker did not close in ${CLOSE_TIMEOUT_MS} ms; left to end with the process`);
      return;
    }
    process.off('exit', this.#onExit);
    this.#worker = undefined;
  }

  /** The process is exiting (synchronously): the worker closes its sockets while this thread waits, up to 1 s. */
  #closeNow(): void {
    const w = this.#worker;
    if (!w) return;
    const done = new Int32Array(new SharedArrayBuffer(4));
    w.postMessage({ t: 'close-now', done } satisfies ToWorker);
    Atomics.wait(done, 0, 0, 1000);
  }

  #start(): void {
    const w = new Worker(this.#o.url ?? new URL('./ingest-worker.js', import.meta.url));
    // The gateway's shutdown closes it; it never keeps the process alive by itself.
    w.unref();
    this.#worker = w;
    this.#startedAt = Date.now();
    w.on('message', (m: FromWorker) => this.#receive(m));
    w.on('error', (e) => this.#o.log.error('the KV-event ingestion worker failed', { error: e.message }));
    w.on('exit', (code) => this.#exited(w, code));
    if (this.#o.tuning) w.postMessage({ t: 'tuning', tuning: this.#o.tuning } satisfies ToWorker);
    for (const [id, v] of this.#views) w.postMessage({ t: 'view', view: id, settings: v.settings } satisfies ToWorker);
    for (const v of this.#views.values()) v.resubscribe();
  }

  #exited(w: Worker, code: number): void {
    if (this.#worker !== w) return;
    this.#worker = undefined;
    if (this.#closing) return;
    this.restarts++;
    if (Date.now() - this.#startedAt >= STABLE_MS) this.#delay = this.#o.restartMs ?? 200;
    const delay = this.#delay;
    this.#delay = Math.min(RESTART_MAX_MS, delay * 2);
    this.#o.log.error(`the KV-event ingestion worker exited (code ${code}); restarting it in ${delay} ms. Meanwhile every pod is scored on the approximate prefix view, and their precise views start over (replayed where the pods have a replay socket)`, { restarts: this.restarts });
    for (const v of this.#views.values()) v.workerLost();
    this.#restartTimer = setTimeout(() => {
      if (!this.#closing) this.#start();
    }, delay).unref();
  }

  #receive(m: FromWorker): void {
    if (m.t === 'update') {
      for (const [id, ops] of m.ops) this.#views.get(id)?.applyOps(ops);
      for (const s of m.status) this.#feedViews.get(s.feed)?.applyStatus(s);
      for (const [id, key, n] of m.counts ?? []) this.#views.get(id)?.applyCounts(key, n);
    } else if (m.t === 'log') {
      if (m.level === 'error') this.#o.log.error(m.message, m.fields);
      else this.#o.log.warn(m.message, m.fields);
    }
  }

  #send(m: ToWorker): void {
    this.#worker?.postMessage(m);
  }
}
