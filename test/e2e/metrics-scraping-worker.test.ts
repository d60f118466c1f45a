/**
 * The gateway with `--metrics-scraping worker`: pods' /metrics reach the scheduler and the metrics endpoint; a pod
 * that holds a request its /metrics does not count is caught, as on the request thread (the scrape's start is
 * marked before the worker's GET); a worker that dies is logged, counted and restarted while requests are served;
 * shutdown ends it. Loopback 127.0.131.x.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { createLogger } from '../../src/logger.js';
import { startHungPod } from '../../src/upstream/hung-pod.js';
import { unreportedRequests } from '../../src/upstream/in-flight.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor } from '../helpers/fleet.js';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const OCTET = 131;

test('worker scraping: metrics, unreported requests, a worker crash survived, shutdown', { timeout: 60_000 }, async () => {
  const fleet = await startFleet(OCTET, [{ name: 'llama-0', labels: {}, model: MODEL, ttftMs: 5, itlMs: 5 }]);
  const hung = await startHungPod({ host: `127.0.${OCTET}.9`, port: fleet.port, model: MODEL });
  const docs = [podYaml('llama-0', fleet.ipOf('llama-0'), { app: 'llama' }), podYaml('hung-0', hung.host, { app: 'llama' }), poolYaml('llama', { app: 'llama' }, fleet.port), baseModelRouteYaml('llama', MODEL, [['llama', 1]])];
  const cfg = await tempConfig({ 'all.yaml': docs.join('---\n') });
  const logs: string[] = [];
  const gw = await startTestGateway(cfg.dir, { metricsScraping: 'worker', log: createLogger('warn', (l) => logs.push(l)), timeouts: { streamHeadersMs: 10_000, responseHeadersMs: 10_000 } });
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const scraper = gw.gateway.metrics;
  const worker = scraper.worker!;
  const healthy = gw.gateway.datastore.endpoint(`${fleet.ipOf('llama-0')}:${fleet.port}`)!;
  const stuck = gw.gateway.datastore.endpoint(`${hung.host}:${hung.port}`)!;
  const aborts: AbortController[] = [];
  try {
    assert.equal(scraper.scraping, 'worker');
    // Scraped once before the configuration went in force, and every 50 ms since.
    assert.ok(healthy.metrics && stuck.metrics, 'both endpoints have metrics');
    const first = healthy.metrics.updatedAt;
    assert.ok(await waitFor(() => healthy.metrics!.updatedAt > first, 2000), 'metrics keep coming');
    const exposition = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(exposition, /^infergate_metrics_scrape_worker_restarts_total 0$/m);
    assert.match(exposition, new RegExp(`^infergate_endpoint_metrics_age_seconds\\{[^}]*endpoint="${hung.host.replaceAll('.', '\\.')}:${hung.port}"`, 'm'));

    // Requests until one is held by the hung pod, whose /metrics keep saying idle.
    for (let i = 0; i < 20 && hung.held() === 0; i++) {
      const ac = new AbortController();
      aborts.push(ac);
      const p = client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: `question ${i}` }], max_tokens: 3 }, { signal: ac.signal }).catch(() => undefined);
      await Promise.race([p, waitFor(() => hung.held() > 0, 2000)]);
    }
    assert.equal(hung.held(), 1, 'one request reached the hung pod');
    assert.ok(await waitFor(() => unreportedRequests(stuck) === 1, 3000), 'the pod does not report the request it holds');
    assert.equal(unreportedRequests(healthy), 0);

    // The worker dies: logged, counted, restarted; requests are served meanwhile and metrics come back.
    worker.crashForTest();
    assert.ok(await waitFor(() => worker.restarts === 1, 3000), 'the worker restarted');
    const served = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'still there?' }], max_tokens: 3 });
    assert.equal(served.choices.length, 1);
    assert.ok(logs.some((l) => l.includes('the metrics scraping worker exited')), logs.join('\n'));
    assert.ok(await waitFor(() => worker.running, 3000), 'a new worker runs');
    const after = Date.now();
    assert.ok(await waitFor(() => healthy.metrics !== undefined && healthy.metrics.updatedAt > after && healthy.metricsError === undefined, 3000), 'scrapes resumed');
    assert.match(await (await fetch(`${gw.adminUrl}/metrics`)).text(), /^infergate_metrics_scrape_worker_restarts_total 1$/m);
  } finally {
    for (const ac of aborts) ac.abort();
    await gw.close();
    await hung.close();
    await fleet.close();
    await cfg.remove();
  }
  assert.equal(worker.running, false, 'shutdown ended the worker');
});
