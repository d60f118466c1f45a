/**
 * The metrics scraping worker (a worker_threads entry, `--metrics-scraping worker`): the GETs of every endpoint's
 * /metrics, the text parse and the extraction into the scheduler's numbers, off the request thread. The request
 * thread decides when each endpoint is scraped (it marks the scrape's start for the unreported-requests count
 * before the job is posted) and assigns the outcomes this posts back. Started by ScrapeWorker (scrape-worker-client.ts).
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import type { EngineMetricMap } from './engine-metrics.js';
import { readEndpointMetrics, SCRAPE_CLIENTS, type ScrapeOutcome } from './read-endpoint-metrics.js';
import { OriginClients } from '../../upstream/origin-clients.js';
import type { FromScrapeWorker, ToScrapeWorker } from './scrape-protocol.js';

/**
 * Outcomes are posted this long after the first of them (ms): a tick's scrapes of loopback or in-cluster pods end
 * within a few ms of each other, so this makes one post per tick instead of one per scrape, for a few ms of age.
 */
const FLUSH_DELAY_MS = 3;

export class ScrapeWorkerRuntime {
  readonly #port: MessagePort;
  readonly #agents = new OriginClients(SCRAPE_CLIENTS);
  readonly #inFlight = new Set<Promise<void>>();
  #engines: ReadonlyMap<string, EngineMetricMap> = new Map();
  #outcomes: [number, ScrapeOutcome][] = [];
  #flushQueued = false;
  #closing = false;

  constructor(port: MessagePort) {
    this.#port = port;
    port.on('message', (m: ToScrapeWorker) => this.#handle(m));
    this.#post({ t: 'ready' });
  }

  #handle(m: ToScrapeWorker): void {
    switch (m.t) {
      case 'engines':
        this.#engines = m.engines;
        return;
      case 'scrape':
        for (const [id, job] of m.jobs) {
          const p = readEndpointMetrics(job, this.#agents, this.#engines).then((o) => this.#done(id, o));
          this.#inFlight.add(p);
          void p.finally(() => this.#inFlight.delete(p));
        }
        return;
      case 'close':
        void this.#close();
        return;
      case 'crash':
        setImmediate(() => {
          throw new Error('metrics scraping worker: crash requested (a test)');
        });
        return;
    }
  }

  #done(id: number, outcome: ScrapeOutcome): void {
    this.#outcomes.push([id, outcome]);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    setTimeout(() => this.#flush(), FLUSH_DELAY_MS);
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#outcomes.length === 0) return;
    const outcomes = this.#outcomes;
    this.#outcomes = [];
    this.#post({ t: 'outcomes', outcomes });
  }

  async #close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await Promise.allSettled([...this.#inFlight]);
    this.#flush();
    await this.#agents.close();
    this.#post({ t: 'closed' });
    this.#port.close();
  }

  #post(m: FromScrapeWorker): void {
    this.#port.postMessage(m);
  }
}

// An uncaught error ends the worker (the default); the request thread logs it, fails the scrapes in flight and
// starts another.
if (parentPort) new ScrapeWorkerRuntime(parentPort);
