/** ScrapeAgents: one client per origin, kept across failed connects, dropped once unasked for a while. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { FakeEngine, refusedPort } from '../fake-engine.js';
import { engineMetricMaps } from './engine-metrics.js';
import { readEndpointMetrics, ScrapeAgents, SCRAPE_ACCEPT } from './read-endpoint-metrics.js';

/** Loopback addresses 127.0.12.x belong to the scraper's tests; this file takes .9. */
const HOST = '127.0.12.9';

test("a pod that refuses connections keeps its one client from scrape to scrape (an Agent built a new pool each time)", async () => {
  const agents = new ScrapeAgents();
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

test('an origin not asked for longer than the idle time loses its client at the next sweep; one still asked keeps it', async () => {
  const engine = new FakeEngine(HOST);
  const port = await engine.listen();
  engine.handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('vllm:num_requests_waiting{model_name="m"} 1\nvllm:num_requests_running{model_name="m"} 0\nvllm:kv_cache_usage_perc{model_name="m"} 0.1\n');
  const agents = new ScrapeAgents(150, 20);
  try {
    const job = (origin: string) => ({ origin, path: '/metrics', h2c: false, engine: 'vllm', timeoutMs: 1000, maxBytes: 1 << 20, headers: { ...SCRAPE_ACCEPT } });
    const gone = `http://${HOST}:${port}`;
    const kept = `http://localhost-kept.invalid:1`;
    assert.equal((await readEndpointMetrics(job(gone), agents, engineMetricMaps())).ok, true);
    const goneClient = agents.of(gone, false);
    for (let i = 0; i < 8; i++) {
      agents.of(kept, false);
      await delay(30);
    }
    const keptClient = agents.of(kept, false);
    assert.equal(agents.size, 1, 'the origin unasked for 240 ms is gone');
    assert.equal(goneClient.closed, true);
    assert.equal(agents.of(kept, false), keptClient);
    assert.equal(keptClient.closed, false);
    assert.notEqual(agents.of(gone, false), goneClient, 'asked again, it gets a new client');
  } finally {
    await agents.close();
    await engine.close();
  }
});
