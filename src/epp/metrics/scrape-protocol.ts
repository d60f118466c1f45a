/**
 * The messages between the request thread and the metrics scraping worker. Plain data only (structured clone):
 * scrapes go out in one post per scheduler tick, and their outcomes come back in one post per few milliseconds.
 * Scrapes are named by ids the request thread hands out, never reused.
 */
import type { EngineMetricMap } from './engine-metrics.js';
import type { ScrapeJob, ScrapeOutcome } from './read-endpoint-metrics.js';

export type ToScrapeWorker =
  /** The engines' metric maps, sent first (and again to a restarted worker). */
  | { t: 'engines'; engines: ReadonlyMap<string, EngineMetricMap> }
  | { t: 'scrape'; jobs: [id: number, job: ScrapeJob][] }
  /** Finish the scrapes in flight, post their outcomes, close the connections, then end. */
  | { t: 'close' }
  /** Throws inside the worker: tests use it to check that a crash is survived. */
  | { t: 'crash' };

export type FromScrapeWorker =
  /** Its modules are loaded and it listens: scrapes posted from now on start at once. */
  | { t: 'ready' }
  | { t: 'outcomes'; outcomes: [id: number, outcome: ScrapeOutcome][] }
  | { t: 'closed' };
