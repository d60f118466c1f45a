/** In-flight accounting: what the picker reads of the load the gateway put on an endpoint, and when a pod is caught not counting it. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { endpoint } from '../epp/framework/test-fixtures.js';
import type { Endpoint } from '../epp/datastore/endpoint.js';
import { UNREPORTED_GRACE_MS, metricsScrapeStarted, metricsScraped, requestEnded, requestSent, responseStarted, unreportedRequests } from './in-flight.js';

describe('Endpoint.waitingQueue: the scraped queue plus unanswered requests the pod does not report', () => {
  const cases: { name: string; running: number; waiting: number; unanswered: number; want: number }[] = [
    { name: 'nothing unanswered: the scraped queue', running: 3, waiting: 2, unanswered: 0, want: 2 },
    { name: 'unanswered requests the pod counts add nothing', running: 3, waiting: 2, unanswered: 5, want: 2 },
    { name: 'an idle-looking pod holding 2 unanswered requests', running: 0, waiting: 0, unanswered: 2, want: 2 },
    { name: 'beyond what it reports: only the excess is added', running: 1, waiting: 1, unanswered: 5, want: 4 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const ep = endpoint('10.0.0.1').metrics({ runningQueueSize: c.running, waitingQueueSize: c.waiting }).unanswered(c.unanswered).build();
      assert.equal(ep.waitingQueue(), c.want);
    });
  }

  test('without metrics: 0 (scorers rank it by its missing metrics)', () => {
    assert.equal(endpoint('10.0.0.1').unanswered(3).build().waitingQueue(), 0);
  });
});

describe('counting requests', () => {
  test('in flight until ended, unanswered until the response starts; a failure before it releases both', () => {
    const ep = endpoint('10.0.0.1').metrics().build();
    const a = requestSent(ep);
    const b = requestSent(ep);
    assert.deepEqual([ep.inFlight, ep.unanswered], [2, 2]);
    responseStarted(ep, a);
    assert.deepEqual([ep.inFlight, ep.unanswered], [2, 1]);
    requestEnded(ep, a, true);
    requestEnded(ep, b, false);
    assert.deepEqual([ep.inFlight, ep.unanswered], [0, 0]);
  });
});

describe('unreportedRequests: requests at least the grace old that the pod neither answered nor counted', () => {
  /**
   * A pod that reports `reports` (running, waiting) at every scrape; each step acts on it in order. `scrape` comes
   * UNREPORTED_GRACE_MS after the one before, `quick-scrape` 50 ms after.
   */
  type Step = 'send' | 'answer-first' | 'end-first-unanswered' | 'scrape' | 'quick-scrape';
  const cases: { name: string; reports: [number, number]; steps: Step[]; want: number }[] = [
    { name: 'an idle-looking pod holding a request sent a grace before its scrape', reports: [0, 0], steps: ['send', 'scrape', 'scrape'], want: 1 },
    { name: 'not within the grace: the pod may still be reading it', reports: [0, 0], steps: ['send', 'scrape'], want: 0 },
    { name: 'scrapes closer than the grace do not age requests', reports: [0, 0], steps: ['send', 'quick-scrape', 'quick-scrape', 'quick-scrape'], want: 0 },
    { name: 'a request sent after a generation began waits for the next one', reports: [0, 0], steps: ['scrape', 'send', 'scrape'], want: 0 },
    { name: 'a pod that counts its requests (non-streamed, running)', reports: [2, 0], steps: ['send', 'send', 'scrape', 'scrape'], want: 0 },
    { name: 'a pod counting one of two: one unreported', reports: [0, 1], steps: ['send', 'send', 'scrape', 'scrape'], want: 1 },
    { name: 'an answer after the scrape brings it down at once', reports: [0, 0], steps: ['send', 'send', 'scrape', 'scrape', 'answer-first'], want: 1 },
    { name: 'a request given up on (timeout) leaves no trace', reports: [0, 0], steps: ['send', 'scrape', 'scrape', 'end-first-unanswered'], want: 0 },
    { name: 'a streamed request answered at once: nothing held', reports: [1, 0], steps: ['send', 'answer-first', 'scrape', 'scrape'], want: 0 },
    { name: 'later scrapes settle it again', reports: [0, 0], steps: ['send', 'scrape', 'scrape', 'send', 'scrape', 'scrape'], want: 2 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const ep: Endpoint = endpoint('10.0.0.1').metrics({ runningQueueSize: c.reports[0], waitingQueueSize: c.reports[1] }).build();
      const tickets: number[] = [];
      let now = 1_000_000;
      for (const step of c.steps) {
        if (step === 'send') tickets.push(requestSent(ep));
        else if (step === 'answer-first') responseStarted(ep, tickets.shift()!);
        else if (step === 'end-first-unanswered') requestEnded(ep, tickets.shift()!, false);
        else {
          now += step === 'scrape' ? UNREPORTED_GRACE_MS : 50;
          metricsScrapeStarted(ep, now);
          metricsScraped(ep);
        }
      }
      assert.equal(unreportedRequests(ep), c.want);
    });
  }

  test('no metrics, no claim to check', () => {
    const ep = endpoint('10.0.0.1').build();
    requestSent(ep);
    for (const t of [1_000_000, 2_000_000]) {
      metricsScrapeStarted(ep, t);
      metricsScraped(ep);
    }
    assert.equal(unreportedRequests(ep), 0);
  });
});
