/** Scrapes' clients: one per origin, kept across failed connects (the idle sweep: src/upstream/origin-clients.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refusedPort } from '../fake-engine.js';
import { engineMetricMaps } from './engine-metrics.js';
import { OriginClients } from '../../upstream/origin-clients.js';
import { readEndpointMetrics, SCRAPE_ACCEPT, SCRAPE_CLIENTS } from './read-endpoint-metrics.js';

/** Loopback addresses 127.0.12.x belong to the scraper's tests; this file takes .9. */
const HOST = '127.0.12.9';

test("a pod that refuses connections keeps its one client from scrape to scrape (an Agent built a new pool each time)", async () => {
  const agents = new OriginClients(SCRAPE_CLIENTS);
  const origin = `http://${HOST}:${await refusedPort(HOST)}`;
  try {
    const job = { origin, path: '/metrics', h2c: false, engine: 'vllm', timeoutMs: 1000, maxBytes: 1 << 20, headers: { ...SCRAPE_ACCEPT } };
    const client = agents.of(origin, false);
    for (let i = 0; i < 3; i++) {
      const outcome = await readEndpointMetrics(job, agents, engineMetricMaps());
      assert.equal(outcome.ok, false);
      assert.match(outcome.ok ? '' : outcome.why, /ECONNREFUSED/);
    }
    assert.equal(agents.of(origin, false), client, 'the same client after three refused connects');
    assert.notEqual(agents.of(origin, true), client, 'h2c has a client of its own');
    assert.equal(agents.size, 2);
  } finally {
    await agents.close();
  }
});
