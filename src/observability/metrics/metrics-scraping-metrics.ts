/** The endpoint /metrics scraper's own health, read at scrape time: its worker's restarts (`--metrics-scraping worker`). */
import { CollectedFamily } from './collected-family.js';
import type { Collectable } from './family.js';

/** What is read of the scraper: its worker, in worker mode. */
export interface ScrapingSource {
  readonly worker: { readonly restarts: number } | undefined;
}

export function metricsScrapingFamilies(scraper: () => ScrapingSource | undefined): Collectable[] {
  return [
    new CollectedFamily({
      type: 'counter',
      name: 'infergate_metrics_scrape_worker_restarts_total',
      help: "Times the endpoint metrics scraping worker thread (--metrics-scraping worker) died and was restarted; each is logged as an error, and meanwhile scrapes fail and the endpoints' metrics go stale as with any failed scrape.",
      collect: (emit) => emit(scraper()?.worker?.restarts ?? 0),
    }),
  ];
}
