/**
 * The request thread's side of the metrics scraping worker: posts the scrapes a tick makes (one post per tick),
 * resolves each with the outcome the worker posts back, and restarts the worker (with backoff) if it ever dies.
 * Meanwhile scrapes fail with a reason that names the worker, so endpoints' metrics age and go stale as with any
 * failed scrape (src/epp/metrics/staleness.ts), and the gateway keeps serving.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../logger.js';
import type { EngineMetricMap } from './engine-metrics.js';
import type { ScrapeJob, ScrapeOutcome } from './read-endpoint-metrics.js';
import type { FromScrapeWorker, ToScrapeWorker } from './scrape-protocol.js';

export interface ScrapeWorkerOptions {
  log: Logger;
  engines: ReadonlyMap<string, EngineMetricMap>;
  /** First restart delay (ms); doubles per restart up to 30 s, back to this after a minute without one. */
  restartMs?: number;
  /** The worker's module; tests give a broken one. */
  url?: URL;
}

const RESTART_MAX_MS = 30_000;
const STABLE_MS = 60_000;
/** How long close waits for the worker to finish its scrapes and end (ms) before terminating it. */
const CLOSE_TIMEOUT_MS = 2000;

export class ScrapeWorker {
  readonly #o: ScrapeWorkerOptions;
  #worker: Worker | undefined;
  #startedAt = 0;
  #delay: number;
  #restartTimer: NodeJS.Timeout | undefined;
  #nextId = 1;
  readonly #waiting = new Map<number, (o: ScrapeOutcome) => void>();
  #queued: [number, ScrapeJob][] = [];
  #closing: Promise<void> | undefined;
  #online: Promise<void> = Promise.resolve();
  /** Times the worker died and was restarted, for metrics. */
  restarts = 0;

  constructor(options: ScrapeWorkerOptions) {
    this.#o = options;
    this.#delay = options.restartMs ?? 200;
    this.#start();
  }

  /** Resolves once the current worker runs (its modules loaded); scrapes posted before then wait in its queue. */
  get online(): Promise<void> {
    return this.#online;
  }

  /** Whether a worker is running now. */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  /**
   * Scrapes once in the worker. Never rejects. Jobs are queued and posted together at the end of the current
   * task, so a tick that starts ten scrapes pays one postMessage.
   */
  read(job: ScrapeJob): Promise<ScrapeOutcome> {
    if (!this.#worker || this.#closing) {
      const why = this.#closing ? 'the metrics scraping worker is closed' : 'the metrics scraping worker is restarting after it exited (see the error log)';
      return Promise.resolve({ ok: false, refused: 0, why });
    }
    const id = this.#nextId++;
    const p = new Promise<ScrapeOutcome>((resolve) => this.#waiting.set(id, resolve));
    // A scrape in flight keeps the process alive, as the in-thread scraper's sockets would.
    if (this.#waiting.size === 1) this.#worker.ref();
    if (this.#queued.push([id, job]) === 1) queueMicrotask(() => this.#post());
    return p;
  }

  /** Tests: makes the worker throw. */
  crashForTest(): void {
    this.#worker?.postMessage({ t: 'crash' } satisfies ToScrapeWorker);
  }

  /** Lets the scrapes in flight finish, then ends the worker; one that does not end in time is terminated. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearTimeout(this.#restartTimer);
    const w = this.#worker;
    if (!w) return;
    let timer: NodeJS.Timeout | undefined;
    const exited = new Promise<boolean>((resolve) => w.once('exit', () => resolve(true)));
    this.#post();
    w.postMessage({ t: 'close' } satisfies ToScrapeWorker);
    const ended = await Promise.race([exited, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS)))]);
    clearTimeout(timer);
    if (!ended) {
      this.#o.log.warn(`the metrics scraping worker did not close in ${CLOSE_TIMEOUT_MS} ms; terminated`);
      await w.terminate();
    }
  }

  #post(): void {
    if (this.#queued.length === 0) return;
    const jobs = this.#queued;
    this.#queued = [];
    this.#worker?.postMessage({ t: 'scrape', jobs } satisfies ToScrapeWorker);
  }

  #start(): void {
    const w = new Worker(this.#o.url ?? new URL('./scrape-worker.js', import.meta.url));
    // Referenced only while scrapes are in flight: the gateway's server keeps the process alive, not this.
    w.unref();
    this.#worker = w;
    this.#startedAt = Date.now();
    this.#online = new Promise((resolve) => {
      const ready = (m: FromScrapeWorker): void => {
        if (m.t !== 'ready') return;
        w.off('message', ready);
        resolve();
      };
      w.on('message', ready);
      w.once('exit', () => resolve());
    });
    w.on('message', (m: FromScrapeWorker) => this.#receive(m));
    w.on('error', (e) => this.#o.log.error('the metrics scraping worker failed', { error: e.stack ?? e.message }));
    w.on('exit', (code) => this.#exited(w, code));
    w.postMessage({ t: 'engines', engines: this.#o.engines } satisfies ToScrapeWorker);
  }

  #exited(w: Worker, code: number): void {
    if (this.#worker !== w) return;
    this.#worker = undefined;
    this.#queued = [];
    const lost = [...this.#waiting.values()];
    this.#waiting.clear();
    const why = this.#closing ? 'the metrics scraping worker closed' : `the metrics scraping worker exited (code ${code}) during the scrape`;
    for (const resolve of lost) resolve({ ok: false, refused: 0, why });
    if (this.#closing) return;
    this.restarts++;
    if (Date.now() - this.#startedAt >= STABLE_MS) this.#delay = this.#o.restartMs ?? 200;
    const delay = this.#delay;
    this.#delay = Math.min(RESTART_MAX_MS, delay * 2);
    this.#o.log.error(`the metrics scraping worker exited (code ${code}); restarting it in ${delay} ms. Meanwhile scrapes fail, and endpoints' metrics go stale after 2 s as with any failed scrape`, { restarts: this.restarts });
    this.#restartTimer = setTimeout(() => {
      if (!this.#closing) this.#start();
    }, delay).unref();
  }

  #receive(m: FromScrapeWorker): void {
    if (m.t !== 'outcomes') return;
    for (const [id, outcome] of m.outcomes) {
      const resolve = this.#waiting.get(id);
      if (!resolve) continue;
      this.#waiting.delete(id);
      resolve(outcome);
    }
    if (this.#waiting.size === 0) this.#worker?.unref();
  }
}
