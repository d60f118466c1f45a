/** A dead pod's last good metrics are kept for a while, then dropped so scorers stop trusting them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inferencePool, pod } from '../../api/test-fixtures.js';
import { snapshot } from '../../config/test-fixtures.js';
import { Datastore } from '../datastore/datastore.js';
import { MetricsScraper } from './metrics-scraper.js';
import { DEFAULT_METRICS_STALENESS_MS } from './staleness.js';

const reading = { waitingQueueSize: 0, runningQueueSize: 0, kvCacheUsagePercent: 0.1, runningLoras: [], waitingLoras: [], maxLoras: 0 };

test('a failed scrape keeps recent metrics but drops stale ones', async () => {
  const store = new Datastore();
  // Nothing listens on 127.0.12.250: every scrape fails at once with ECONNREFUSED.
  store.apply(snapshot(inferencePool('p').selects({ app: 'x' }).ports(9), pod('dead').labels({ app: 'x' }).ip('127.0.12.250').ready()));
  const ep = [...store.endpoints()][0]!;
  const scraper = new MetricsScraper(store, { timeoutMs: 500 });
  try {
    ep.metrics = { ...reading, updatedAt: Date.now() - 100 };
    await scraper.scrapeAll();
    assert.ok(ep.metrics, 'recent metrics survive one failed scrape');
    assert.match(ep.metricsError ?? '', /ECONNREFUSED/);
    ep.metrics = { ...reading, updatedAt: Date.now() - DEFAULT_METRICS_STALENESS_MS - 100 };
    await scraper.scrapeAll();
    assert.equal(ep.metrics, undefined, 'stale metrics of an unreachable endpoint are dropped');
  } finally {
    await scraper.close();
  }
});
