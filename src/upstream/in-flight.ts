/**
 * The gateway's own count of the load it put on each endpoint: requests sent and not finished (`inFlight`),
 * of those the ones with no response byte yet (`unanswered`), and how old those are in scrape windows, to
 * catch a pod that holds requests it does not count in the running + waiting of its /metrics. Both front
 * doors (the HTTP proxy and the ext_proc picker) count through these calls, so the picker sees the same
 * thing whichever one sent; the metrics scraper marks each scrape. Counters only: nothing is allocated.
 */
import type { Endpoint } from '../epp/datastore/endpoint.js';

/**
 * How old an unanswered request must be before a pod that does not count it is held out. A healthy vLLM
 * counts a request once it leaves the API server's preprocessing (tokenization, chat template) for the
 * engine's queue, well within this; a pod that accepts connections and answers nothing never does.
 */
export const UNREPORTED_GRACE_MS = 500;

/**
 * A request is on its way to `ep` (counted at pick time, so concurrent picks see it). Returns its ticket:
 * give it back to `responseStarted` and `requestEnded`.
 */
export function requestSent(ep: Endpoint): number {
  ep.inFlight++;
  ep.unanswered++;
  return ep.unansweredAges.generation;
}

/** Its response headers arrived: the endpoint answered, though the body may still be streaming. */
export function responseStarted(ep: Endpoint, ticket: number): void {
  ep.unanswered--;
  const a = ep.unansweredAges;
  if (ticket < a.generation) a.beforeCurrent--;
  if (ticket < a.generation - 1) a.beforePrevious--;
}

/** The request is over, answered (`responseStarted` was called) or not. */
export function requestEnded(ep: Endpoint, ticket: number, answered: boolean): void {
  ep.inFlight--;
  if (!answered) responseStarted(ep, ticket);
}

/**
 * A request's load on the other stages' pods (P/D: the prefill pod; encode pods), which the decode pod's sidecar
 * sends to, not the gateway: each counts the request in flight from the pick until the answer starts (the prefill
 * is done then), as llm-d's inflight-load-producer releases the prefill pod's entry at the first chunk. They get no
 * unanswered count: the gateway sees no answer of theirs to wait for.
 */
export class StageLoad {
  #endpoints: readonly Endpoint[] | undefined;

  private constructor(endpoints: readonly Endpoint[]) {
    this.#endpoints = endpoints;
    for (const ep of endpoints) ep.inFlight++;
  }

  /** Counts the request on `endpoints`; undefined (nothing to release) without any. */
  static of(endpoints: readonly Endpoint[] | undefined): StageLoad | undefined {
    return endpoints === undefined || endpoints.length === 0 ? undefined : new StageLoad(endpoints);
  }

  /** The answer started, or the attempt ended without one: released once, whichever comes first. */
  release(): void {
    const eps = this.#endpoints;
    if (eps === undefined) return;
    this.#endpoints = undefined;
    for (const ep of eps) ep.inFlight--;
  }
}

/** A /metrics scrape of `ep` begins at `now`: a new generation when the current one is old enough. */
export function metricsScrapeStarted(ep: Endpoint, now: number): void {
  const a = ep.unansweredAges;
  if (now - a.generationStartedAt < UNREPORTED_GRACE_MS) return;
  a.generation++;
  a.generationStartedAt = now;
  a.beforePrevious = a.beforeCurrent;
  a.beforeCurrent = ep.unanswered;
}

/** That scrape's numbers are in `ep.metrics`: how many old requests the pod left out is settled until the next one. */
export function metricsScraped(ep: Endpoint): void {
  const m = ep.metrics;
  const a = ep.unansweredAges;
  a.unreportedAtScrape = m ? Math.max(0, a.beforePrevious - m.runningQueueSize - m.waitingQueueSize) : 0;
}

/**
 * Requests this gateway sent to `ep` at least UNREPORTED_GRACE_MS before its last scrape, that still have no
 * answer, and that the pod did not count. A positive number means the pod accepts requests it does not
 * serve. 0 without metrics: no claim to check. Requests answered since the scrape bring it down at once.
 */
export function unreportedRequests(ep: Endpoint): number {
  // Read on every pick for every candidate: most have nothing unanswered, and need no more than this.
  if (ep.unanswered === 0 || !ep.metrics) return 0;
  const a = ep.unansweredAges;
  return Math.min(a.unreportedAtScrape, a.beforePrevious);
}
