/**
 * MetricsScraper against real HTTP servers on 127.0.12.x: metrics set, errors kept apart, one scrape in flight, stop;
 * each suite in both scraping modes (on the request thread and in the worker).
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { until } from '../../../test/helpers/until.js';
import { inferencePool, pod } from '../../api/test-fixtures.js';
import { snapshot } from '../../config/test-fixtures.js';
import { startSimulator } from '../../sim/simulator.js';
import { Datastore } from '../datastore/datastore.js';
import { Endpoint } from '../datastore/endpoint.js';
import { FakeEngine, refusedPort, type Handler } from '../fake-engine.js';
import { ENGINE_TYPE_LABEL } from './engine-metrics.js';
import { createLogger } from '../../logger.js';
import { METRICS_SCRAPING_MODES, MetricsScraper, type MetricsScraperOptions } from './metrics-scraper.js';
import { DEFAULT_METRICS_STALENESS_MS, isStale } from './staleness.js';
import { readFixture } from './test-fixtures.js';

/** Loopback addresses 127.0.12.x are reserved for these tests. */
const HOST = '127.0.12.1';
const SIM_HOST = '127.0.12.2';

function serve(body: string, status = 200): Handler {
  return (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(status, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
  };
}

const gauges = (waiting: number, running: number, kv: number): string =>
  `vllm:num_requests_waiting{model_name="m"} ${waiting}\nvllm:num_requests_running{model_name="m"} ${running}\nvllm:kv_cache_usage_perc{model_name="m"} ${kv}\n`;

const endpoint = (port: number, labels: Record<string, string> = {}, host = HOST): Endpoint =>
  new Endpoint(pod(`vllm-${port}`).labels(labels).ip(host).ready(), host, port);

/** The options of a scraping mode; the worker's log lines are kept to assert on. */
const modeOptions = (scraping: (typeof METRICS_SCRAPING_MODES)[number], logs: string[] = []): Partial<MetricsScraperOptions> => ({ scraping, log: createLogger('warn', (l) => logs.push(l)), workerRestartMs: 50 });

for (const scraping of METRICS_SCRAPING_MODES) {
  describe(`MetricsScraper (${scraping})`, () => {
    const engine = new FakeEngine(HOST);
    let port: number;
    let closedPort: number;
    let store: Datastore;
    let scraper: MetricsScraper;
    let errors: string[];

    before(async () => {
      port = await engine.listen();
      closedPort = await refusedPort(HOST);
    });
    after(() => engine.close());
    beforeEach(() => {
      engine.handler = serve(readFixture('vllm-recent.prom'));
      engine.hits = 0;
      engine.maxInFlight = 0;
      store = new Datastore();
      errors = [];
      scraper = new MetricsScraper(store, { ...modeOptions(scraping), timeoutMs: 1000, onError: (_ep, m) => errors.push(m) });
    });
    afterEach(() => scraper.close());

    test('a scrape sets the metrics read from /metrics and clears the error', async () => {
      const ep = endpoint(port);
      ep.metricsError = 'from before';
      const before = Date.now();
      await scraper.scrape(ep);
      assert.equal(ep.metricsError, undefined);
      const { updatedAt, ...fields } = ep.metrics!;
      assert.deepEqual(fields, { waitingQueueSize: 7, runningQueueSize: 22, kvCacheUsagePercent: 0.6875, runningLoras: ['sql-lora', 'chat-lora'], waitingLoras: ['summ-lora'], maxLoras: 4, blockSize: 16, numGpuBlocks: 27873 });
      assert.ok(updatedAt >= before && updatedAt <= Date.now());
      assert.equal(isStale(ep, updatedAt + DEFAULT_METRICS_STALENESS_MS), false);
      assert.equal(isStale(ep, updatedAt + DEFAULT_METRICS_STALENESS_MS + 1), true);
      assert.deepEqual(scraper.stats, { scrapes: 1, failures: 0, skippedBusy: 0, skippedFailing: 0 });
    });

    test('a failure keeps the old metrics, sets metricsError, and reports each distinct error once', async () => {
      const ep = endpoint(port);
      engine.handler = serve(gauges(1, 2, 0.5));
      await scraper.scrape(ep);
      const good = ep.metrics!;
      engine.handler = serve('engine dead', 500);
      await scraper.scrape(ep);
      await scraper.scrape(ep);
      assert.equal(ep.metrics, good, 'the old metrics stay, updatedAt included');
      assert.equal(ep.metricsError, `GET http://${HOST}:${port}/metrics failed: answered 500`);
      engine.handler = serve('# HELP up\nup 1\n');
      await scraper.scrape(ep);
      assert.match(ep.metricsError ?? '', /has no vllm:num_requests_waiting, vllm:num_requests_running, vllm:kv_cache_usage_perc or vllm:gpu_cache_usage_perc/);
      assert.equal(ep.metrics, good);
      assert.equal(errors.length, 2, 'repeated identical failures are reported once');
      engine.handler = serve(gauges(0, 0, 0.1));
      await scraper.scrape(ep);
      assert.equal(ep.metricsError, undefined);
      assert.equal(ep.metrics!.kvCacheUsagePercent, 0.1);
      assert.equal(scraper.stats.failures, 3);
    });

    test('a closed port, a hung server and an oversized body are errors', async () => {
      const refused = endpoint(closedPort);
      await scraper.scrape(refused);
      assert.match(refused.metricsError ?? '', /ECONNREFUSED/);
      assert.equal(refused.metrics, undefined);

      const quick = new MetricsScraper(store, { ...modeOptions(scraping), timeoutMs: 100, maxBodyBytes: 1000 });
      try {
        const ep = endpoint(port);
        engine.handler = () => undefined; // never answers
        // The message says the scrape's own timeout ended it (not a wall-clock bound: a loaded machine may be slow).
        await quick.scrape(ep);
        assert.equal(ep.metricsError, `GET http://${HOST}:${port}/metrics failed: timed out after 100 ms`);
        engine.server.closeAllConnections();
      } finally {
        await quick.close();
      }
      // A scraper of its own, with a timeout a loaded machine cannot reach first: the hung scrape's connections,
      // closed above, are not in its pool to be reused, and what ends the scrape is the body's size.
      const small = new MetricsScraper(store, { ...modeOptions(scraping), timeoutMs: 10_000, maxBodyBytes: 1000 });
      try {
        const ep = endpoint(port);
        engine.handler = serve(readFixture('vllm-recent.prom'));
        await small.scrape(ep);
        assert.match(ep.metricsError ?? '', /body larger than 1000 bytes/);
      } finally {
        await small.close();
      }
    });

    test('the pod label picks the engine map; an unknown engine is an error naming the known ones', async () => {
      const sg = endpoint(port, { [ENGINE_TYPE_LABEL]: 'sglang' });
      engine.handler = serve(readFixture('sglang.prom'));
      await scraper.scrape(sg);
      assert.equal(sg.metricsError, undefined);
      assert.equal(sg.metrics!.kvCacheUsagePercent, 0.52);

      const odd = endpoint(port, { [ENGINE_TYPE_LABEL]: 'tgi' });
      await scraper.scrape(odd);
      assert.match(odd.metricsError ?? '', /labelled llm-d\.ai\/engine-type=tgi, but no engine metrics config is named tgi; known: vllm, sglang/);
    });

    test('concurrent scrapes of one endpoint share one request', async () => {
      const ep = endpoint(port);
      await Promise.all([scraper.scrape(ep), scraper.scrape(ep), scraper.scrapeAll([ep, ep])]);
      assert.equal(engine.hits, 1);
    });

    test('start() keeps one scrape in flight per endpoint and skips ticks while it lasts', async () => {
      store.apply(snapshot(inferencePool('p').selects({ app: 'p' }).ports(port), pod('p-0').labels({ app: 'p' }).ip(HOST).ready()));
      const held: ServerResponse[] = [];
      engine.handler = (_req, res) => held.push(res);
      const fast = new MetricsScraper(store, { ...modeOptions(scraping), refreshMetricsIntervalMs: 10, timeoutMs: 5000 });
      try {
        fast.start();
        await until(() => held.length === 1, 'the first scrape');
        await delay(100);
        assert.equal(engine.hits, 1, 'no second request while the first is unanswered');
        assert.equal(engine.maxInFlight, 1);
        assert.ok(fast.stats.skippedBusy >= 2, `skipped ${fast.stats.skippedBusy} ticks`);
        engine.handler = serve(gauges(3, 1, 0.2));
        held[0]!.writeHead(200).end(gauges(1, 1, 0.1));
        await until(() => engine.hits >= 3, 'scrapes resuming');
        assert.equal(engine.maxInFlight, 1);
        assert.equal(store.pool('default/p')!.endpoints[0]!.metrics?.waitingQueueSize, 3);
      } finally {
        await fast.close();
      }
    });

    test('start() covers every endpoint of the datastore, spread over the interval, until stop()', async () => {
      const engines = await Promise.all([1, 2, 3, 4, 5].map(async () => {
        const e = new FakeEngine(HOST);
        e.handler = serve(gauges(0, 0, 0));
        return { e, port: await e.listen() };
      }));
      const firstHit = new Map<number, number>();
      for (const { e, port: p } of engines) {
        const inner = e.handler;
        e.handler = (req, res) => {
          if (!firstHit.has(p)) firstHit.set(p, performance.now());
          inner(req, res);
        };
      }
      store.apply(snapshot(inferencePool('p').selects({ app: 'p' }).ports(...engines.map((x) => x.port)), pod('p-0').labels({ app: 'p' }).ip(HOST).ready()));
      // 250 ms: ten 25 ms slots, so the five endpoints' first scrapes spread over ~100 ms, far more than the
      // event-loop stalls of a loaded CI machine (at 50 ms the 10 ms slots were within reach of a stall).
      const periodic = new MetricsScraper(store, { ...modeOptions(scraping), refreshMetricsIntervalMs: 250 });
      try {
        // A worker that is still loading would take the first round's scrapes all at once.
        await periodic.worker?.online;
        periodic.start();
        await until(() => engines.every(({ e }) => e.hits >= 3), 'three scrapes of every endpoint');
        for (const ep of store.endpoints()) assert.ok(ep.metrics && ep.metricsError === undefined, ep.address);
        // Five endpoints, five 25 ms slots: first requests spread over ~100 ms rather than in one burst
        // (lenient, as a stalled test machine legitimately makes the scraper catch up in one tick).
        const firsts = [...firstHit.values()];
        assert.ok(Math.max(...firsts) - Math.min(...firsts) >= 8, `first scrapes within ${Math.max(...firsts) - Math.min(...firsts)} ms`);
        periodic.stop();
        await delay(30); // a scrape already in flight may still land
        const hits = engines.map(({ e }) => e.hits);
        await delay(300); // more than one interval: every endpoint would have been due again
        assert.deepEqual(engines.map(({ e }) => e.hits), hits, 'no scrape after stop()');
      } finally {
        await periodic.close();
        await Promise.all(engines.map(({ e }) => e.close()));
      }
    });

    test('start() asks an endpoint whose scrapes fail less and less often, and every interval again once one succeeds', async () => {
      store.apply(snapshot(inferencePool('p').selects({ app: 'p' }).ports(port), pod('p-0').labels({ app: 'p' }).ip(HOST).ready()));
      engine.handler = serve('', 500);
      // 20 ms: without the backoff a failing pod is asked 50 times a second.
      const fast = new MetricsScraper(store, { ...modeOptions(scraping), refreshMetricsIntervalMs: 20 });
      try {
        await fast.worker?.online;
        fast.start();
        await delay(1500);
        const failing = engine.hits;
        // Waits of 20, 40, 80 ... 640, then 1000 ms: 7 or 8 attempts in 1.5 s, however late a tick comes.
        assert.ok(failing >= 4 && failing <= 10, `${failing} scrapes of a failing endpoint in 1.5 s`);
        // Most ticks are skipped for the backoff: more than twice as many as the attempts made. (Not a count of ticks:
        // on a loaded machine the 20 ms timer comes late, and 1.5 s may hold far fewer than 75.)
        assert.ok(fast.stats.skippedFailing > 2 * failing, `skipped ${fast.stats.skippedFailing} ticks for ${failing} attempts`);
        engine.handler = serve(gauges(2, 1, 0.3));
        const ep = store.pool('default/p')!.endpoints[0]!;
        await until(() => ep.metrics?.waitingQueueSize === 2, 'metrics once the pod answers again', 3000);
        assert.equal(ep.metricsError, undefined);
        const before = engine.hits;
        await delay(400);
        assert.ok(engine.hits - before >= 10, `${engine.hits - before} scrapes in 400 ms after recovery: back to every interval`);
      } finally {
        await fast.close();
      }
    });

    test('close() waits for the scrape in flight, and nothing is scraped after', async () => {
      const ep = endpoint(port);
      engine.handler = (_req, res) => setTimeout(() => res.writeHead(200).end(gauges(5, 5, 0.5)), 50);
      const pending = scraper.scrape(ep);
      await until(() => engine.hits === 1, 'the request');
      await scraper.close();
      assert.equal(ep.metrics?.waitingQueueSize, 5, 'the scrape in flight finished before close() resolved');
      await scraper.scrape(ep);
      await pending;
      assert.equal(engine.hits, 1);
    });

    test('options are checked', () => {
      assert.throws(() => new MetricsScraper(store, { ...modeOptions(scraping), refreshMetricsIntervalMs: 0 }), /refreshMetricsIntervalMs must be positive/);
      assert.throws(() => new MetricsScraper(store, { ...modeOptions(scraping), defaultEngine: 'tgi' }), /defaultEngine tgi has no metric map; known: vllm, sglang/);
    });

    test('isStale: never scraped is stale', () => {
      assert.equal(isStale(endpoint(port)), true);
    });
  });

}

for (const scraping of METRICS_SCRAPING_MODES) {
  describe(`MetricsScraper against the simulator (${scraping})`, () => {
    test('reads waiting and running from the simulator /metrics', async (t) => {
      const sim = await startSimulator({ model: 'base-model', loras: ['sql-lora'], host: SIM_HOST, port: 0, maxNumSeqs: 1, itlMs: 20 });
      t.after(() => sim.close());
      const store = new Datastore();
      const scraper = new MetricsScraper(store, { ...modeOptions(scraping), timeoutMs: 2000 });
      t.after(() => scraper.close());
      const ep = endpoint(sim.port, {}, SIM_HOST);
      await scraper.scrape(ep);
      assert.equal(ep.metricsError, undefined);
      assert.equal(ep.metrics?.waitingQueueSize, 0);
      assert.equal(ep.metrics?.runningQueueSize, 0);

      // One request runs (maxNumSeqs 1), two wait.
      const body = JSON.stringify({ model: 'base-model', prompt: 'hello', max_tokens: 40 });
      const requests = [1, 2, 3].map(() => fetch(`${sim.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.text()));
      await until(() => sim.stats().waiting === 2, 'two waiting requests');
      await scraper.scrape(ep);
      assert.equal(ep.metricsError, undefined);
      assert.equal(ep.metrics?.runningQueueSize, 1);
      assert.equal(ep.metrics?.waitingQueueSize, 2);
      await Promise.all(requests);
    });
  });

}

for (const scraping of METRICS_SCRAPING_MODES) {
  describe(`MetricsScraper and a guarded /metrics (${scraping})`, () => {
    // vLLM leaves /metrics open, but a pod behind kube-rbac-proxy (or another engine) may not.
    const guarded = new FakeEngine('127.0.82.2');
    let port: number;
    before(async () => {
      port = await guarded.listen();
      guarded.handler = (req, res) => {
        if (req.headers.authorization !== 'Bearer sk-pod') res.writeHead(403).end('Forbidden');
        else serve(gauges(3, 1, 0.5))(req, res);
      };
    });
    after(() => guarded.close());

    test("a 403 is a refusal with the credentials' message; scrapes carry the pool's key with the Accept header", async () => {
      let headers: Record<string, string> | undefined;
      const errors: string[] = [];
      const auth = { headersFor: () => headers, refused: (_ep: Endpoint, url: string, status: number) => `GET ${url} answered ${status}: set the key` };
      const scraper = new MetricsScraper(new Datastore(), { ...modeOptions(scraping), timeoutMs: 1000, auth, onError: (_ep, m) => errors.push(m) });
      const ep = endpoint(port, {}, '127.0.82.2');
      try {
        await scraper.scrape(ep);
        await scraper.scrape(ep);
        assert.equal(ep.metricsRefused, 403);
        assert.equal(ep.metrics === undefined, true, 'no metrics from a refusal');
        assert.deepEqual(errors, [`GET http://127.0.82.2:${port}/metrics answered 403: set the key`], 'reported once');

        headers = { authorization: 'Bearer sk-pod' };
        let accept: string | undefined;
        const inner = guarded.handler;
        guarded.handler = (req, res) => {
          accept = req.headers.accept;
          inner(req, res);
        };
        await scraper.scrape(ep);
        guarded.handler = inner;
        assert.equal(ep.metricsRefused, 0);
        assert.equal(ep.metricsError, undefined);
        assert.equal(ep.metrics?.waitingQueueSize, 3);
        assert.match(accept ?? '', /^text\/plain;version=0\.0\.4/);
      } finally {
        await scraper.close();
      }
    });
  });
}

describe('MetricsScraper in worker mode: the worker itself', () => {
  const engine = new FakeEngine('127.0.130.1');
  let port: number;
  before(async () => {
    port = await engine.listen();
    engine.handler = serve(gauges(2, 1, 0.25));
  });
  after(() => engine.close());

  test('a worker that dies is logged, counted and restarted; scrapes meanwhile fail, naming the worker, then resume', async () => {
    const logs: string[] = [];
    const errors: string[] = [];
    const scraper = new MetricsScraper(new Datastore(), { ...modeOptions('worker', logs), timeoutMs: 1000, onError: (_ep, m) => errors.push(m) });
    const ep = new Endpoint(pod('w-0').ip('127.0.130.1').ready(), '127.0.130.1', port);
    try {
      await scraper.scrape(ep);
      assert.equal(ep.metrics?.waitingQueueSize, 2);
      const worker = scraper.worker!;
      worker.crashForTest();
      await until(() => !worker.running, 'the worker exiting');
      assert.equal(worker.restarts, 1);
      assert.ok(logs.some((l) => l.includes('the metrics scraping worker exited')), logs.join('\n'));
      await scraper.scrape(ep);
      assert.match(ep.metricsError ?? '', /metrics scraping worker is restarting/);
      assert.equal(ep.metricsFailures, 1);
      assert.equal(ep.metrics?.waitingQueueSize, 2, 'recent metrics stay through a failed scrape');
      await until(() => worker.running, 'the restarted worker');
      engine.handler = serve(gauges(4, 1, 0.25));
      await scraper.scrape(ep);
      assert.equal(ep.metricsError, undefined);
      assert.equal(ep.metrics?.waitingQueueSize, 4);
    } finally {
      await scraper.close();
    }
  });

  test('a scrape in flight when the worker dies fails, and the worker does not keep an idle process alive', async () => {
    const held: ServerResponse[] = [];
    engine.handler = (_req, res) => held.push(res);
    const scraper = new MetricsScraper(new Datastore(), { ...modeOptions('worker'), timeoutMs: 5000 });
    const ep = new Endpoint(pod('w-1').ip('127.0.130.1').ready(), '127.0.130.1', port);
    try {
      const pending = scraper.scrape(ep);
      await until(() => held.length === 1, 'the request');
      scraper.worker!.crashForTest();
      await pending;
      assert.match(ep.metricsError ?? '', /metrics scraping worker exited \(code 1\) during the scrape/);
    } finally {
      engine.server.closeAllConnections();
      engine.handler = serve(gauges(2, 1, 0.25));
      await scraper.close();
    }
  });

  test('close() ends the worker after its scrapes', async () => {
    const scraper = new MetricsScraper(new Datastore(), { ...modeOptions('worker'), timeoutMs: 1000 });
    const ep = new Endpoint(pod('w-2').ip('127.0.130.1').ready(), '127.0.130.1', port);
    const worker = scraper.worker!;
    const pending = scraper.scrape(ep);
    await scraper.close();
    await pending;
    assert.equal(ep.metrics?.waitingQueueSize, 2, 'the scrape in flight finished first');
    assert.equal(worker.running, false);
    await scraper.scrape(ep);
    assert.equal(scraper.stats.scrapes, 1, 'nothing is scraped after close');
  });
});
