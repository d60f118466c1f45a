/**
 * What live metrics cost the gateway: (a) parsing one vLLM /metrics (micro-benchmark on the recent-vLLM
 * fixture), (b) event-loop delay and (c) CPU time of a process scraping N endpoints every interval, against
 * the same process idle. The N tiny metric servers (each serving the fixture, gauges changing) run in a child
 * process on 127.0.44.x, so the figures are the scraper's alone. `--modes` runs the scraper in each scraping mode
 * (`--metrics-scraping`), alternated `--rounds` times in one run; the request thread's own CPU is read from
 * /proc/self/task (Linux), beside the whole process's. Prints a Markdown table.
 *
 *   npx tsc -p . && node dist/bench/metrics-scrape.js [--endpoints 100] [--interval 50] [--seconds 10] [--iterations 10000]
 *     [--modes in-thread,worker] [--rounds 1]
 */
import { readFileSync } from 'node:fs';
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { benchArgs } from './lib/bench-args.js';
import { inferencePool, pod } from '../src/api/test-fixtures.js';
import { snapshot } from '../src/config/test-fixtures.js';
import { Datastore } from '../src/epp/datastore/datastore.js';
import { engineMetricMaps } from '../src/epp/metrics/engine-metrics.js';
import { extractEndpointMetrics } from '../src/epp/metrics/extract-endpoint-metrics.js';
import { METRICS_SCRAPING_MODES, MetricsScraper, type MetricsScraping } from '../src/epp/metrics/metrics-scraper.js';
import { createLogger } from '../src/logger.js';
import { parsePrometheusText } from '../src/epp/metrics/prometheus-parser.js';
import { readFixture } from '../src/epp/metrics/test-fixtures.js';

const { values } = benchArgs({
  options: {
    endpoints: { type: 'string', default: '100' },
    interval: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '10' },
    iterations: { type: 'string', default: '10000' },
    port: { type: 'string', default: '18044' },
    octet: { type: 'string', default: '44' },
    modes: { type: 'string', default: 'in-thread' },
    rounds: { type: 'string', default: '1' },
    serve: { type: 'boolean', default: false },
  },
});
const ENDPOINTS = Math.min(250, Number(values.endpoints));
const INTERVAL = Number(values.interval);
const SECONDS = Math.min(60, Number(values.seconds));
const ITERATIONS = Number(values.iterations);
const PORT = Number(values.port);
/** The servers' loopback addresses: 127.0.OCTET.(i+1) (`--octet`, so parallel runs can keep apart). */
const OCTET = Math.min(255, Math.max(1, Number(values.octet)));
const hostOf = (i: number): string => `127.0.${OCTET}.${i + 1}`;
const MODES = values.modes.split(',').map((m) => {
  if (!(METRICS_SCRAPING_MODES as readonly string[]).includes(m)) throw new Error(`--modes: ${m} is not one of ${METRICS_SCRAPING_MODES.join(', ')}`);
  return m as MetricsScraping;
});
const ROUNDS = Math.min(5, Math.max(1, Number(values.rounds)));
const RESOLUTION_MS = 1;
const FIXTURE = readFixture('vllm-recent.prom');

if (values.serve) await serveMetrics();
else await main();

/** Child process: N servers answering /metrics with the fixture, the waiting gauge changing per request. */
async function serveMetrics(): Promise<void> {
  const [head, tail] = FIXTURE.split(/(?<=vllm:num_requests_waiting\{model_name="[^"]*",engine="0"\} )3\.0/);
  let n = 0;
  await Promise.all(
    Array.from({ length: ENDPOINTS }, (_, i) => {
      const server = createServer((_req, res) => {
        const body = `${head}${(n++ % 17).toFixed(1)}${tail}`;
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
      });
      server.keepAliveTimeout = 30_000;
      return new Promise<void>((resolve, reject) => {
        server.once('error', (e) => reject(new Error(`cannot listen on ${hostOf(i)}:${PORT}: ${e.message} (try --port)`)));
        server.listen(PORT, hostOf(i), resolve);
      });
    }),
  );
  process.send?.('ready');
}

function micros(fn: () => void, iterations: number): number {
  for (let i = 0; i < Math.min(1000, iterations); i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1000 / iterations;
}

interface Phase {
  name: string;
  /** Event-loop delay beyond the monitor's own 1 ms timer, ms. */
  p50: number;
  p99: number;
  max: number;
  cpuMsPerSec: number;
  sysMsPerSec: number;
  /** The main (request) thread's CPU alone, from /proc (10 ms ticks); NaN off Linux. */
  mainCpuMsPerSec: number;
  /** The main thread's event-loop utilisation (performance.eventLoopUtilization), 0-1. */
  elu: number;
  cpuUsPerScrape?: number;
  scrapesPerSec?: number;
  failures?: number;
  skippedBusy?: number;
  ageP50?: number;
  ageP99?: number;
}

/** The main thread's user + system CPU time (ms), from /proc/self/task/<pid>/stat; NaN where there is none. */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) of proc(5), counted from the state field (3); in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `SECONDS` with the event-loop monitor and CPU clock going; samples metrics ages every 100 ms. */
async function measure(name: string, store: Datastore, scraper?: MetricsScraper): Promise<Phase> {
  const before = scraper?.stats;
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const ages: number[] = [];
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  h.enable();
  while (performance.now() - t0 < SECONDS * 1000) {
    await delay(100);
    if (!scraper) continue;
    const now = Date.now();
    for (const ep of store.endpoints()) if (ep.metrics) ages.push(now - ep.metrics.updatedAt);
  }
  h.disable();
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const mainCpu = mainThreadCpuMs() - main0;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  // The histogram records whole timer periods: subtract the period to get the delay.
  const excess = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);
  const phase: Phase = {
    name,
    p50: excess(h.percentile(50)),
    p99: excess(h.percentile(99)),
    max: excess(h.max),
    cpuMsPerSec: (cpu.user + cpu.system) / 1000 / elapsed,
    sysMsPerSec: cpu.system / 1000 / elapsed,
    mainCpuMsPerSec: mainCpu / elapsed,
    elu,
  };
  if (scraper && before) {
    const after = scraper.stats;
    ages.sort((a, b) => a - b);
    Object.assign(phase, {
      scrapesPerSec: (after.scrapes - before.scrapes) / elapsed,
      cpuUsPerScrape: (cpu.user + cpu.system) / (after.scrapes - before.scrapes),
      failures: after.failures - before.failures,
      skippedBusy: after.skippedBusy - before.skippedBusy,
      ageP50: pct(ages, 50),
      ageP99: pct(ages, 99),
    });
  }
  return phase;
}

async function main(): Promise<void> {
  // (a) Parse cost on the recent-vLLM fixture.
  const map = engineMetricMaps().get('vllm')!;
  const lines = FIXTURE.split('\n').length;
  const full = micros(() => parsePrometheusText(FIXTURE), ITERATIONS);
  const kept = micros(() => parsePrometheusText(FIXTURE, { keep: map.sampleNames }), ITERATIONS);
  const extracted = micros(() => extractEndpointMetrics(parsePrometheusText(FIXTURE, { keep: map.sampleNames }), map), ITERATIONS);

  // (b), (c): the servers in a child process, this process scraping.
  const child = fork(process.argv[1]!, ['--serve', '--endpoints', String(ENDPOINTS), '--port', String(PORT), '--octet', String(OCTET)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`metric servers exited with ${code}`)));
    });
    const pods = Array.from({ length: ENDPOINTS }, (_, i) => pod(`vllm-${i}`).labels({ app: 'bench' }).ip(hostOf(i)).ready());
    const store = new Datastore();
    store.apply(snapshot(inferencePool('bench').selects({ app: 'bench' }).ports(PORT), ...pods));

    const log = createLogger('warn');
    const phases: Phase[] = [await measure('scraping off', store)];
    // Modes alternate (A B A B) so that the machine's other load falls on both alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const scraping of MODES) {
        const scraper = new MetricsScraper(store, { refreshMetricsIntervalMs: INTERVAL, scraping, log });
        await scraper.worker?.online;
        await scraper.scrapeAll();
        scraper.start();
        await delay(1000); // connections open, JIT warm
        phases.push(await measure(`${scraping}: ${ENDPOINTS} endpoints / ${INTERVAL} ms`, store, scraper));
        await scraper.close();
        const errors = [...store.endpoints()].filter((e) => e.metricsError !== undefined);
        if (errors.length > 0) console.error(`${errors.length} endpoints in error, e.g. ${errors[0]!.metricsError}`);
        for (const ep of store.endpoints()) ep.metrics = undefined;
      }
    }

    const f = (n: number | undefined, d = 2): string => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(d));
    console.log(`\n## Metrics scraping (${ENDPOINTS} endpoints, every ${INTERVAL} ms, ${SECONDS} s per phase, node ${process.version})\n`);
    console.log(`Parse, vllm-recent.prom (${(FIXTURE.length / 1024).toFixed(1)} KiB, ${lines} lines), mean of ${ITERATIONS} runs:\n`);
    console.log('| parse | µs per scrape |');
    console.log('|---|---:|');
    console.log(`| full exposition | ${f(full, 1)} |`);
    console.log(`| allow-list of the vLLM map (${map.sampleNames.size} names) | ${f(kept, 1)} |`);
    console.log(`| allow-list + extract EndpointMetrics | ${f(extracted, 1)} |`);
    console.log('\nScraping process:\n');
    console.log('| phase | loop delay p50 ms | p99 ms | max ms | request-thread CPU ms/s | loop utilisation | process CPU ms/s (of which sys) | process CPU µs/scrape | scrapes/s | failures | skipped (busy) | metrics age p50 ms | p99 ms |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const p of phases) {
      console.log(
        `| ${p.name} | ${f(p.p50)} | ${f(p.p99)} | ${f(p.max)} | ${f(p.mainCpuMsPerSec, 0)} | ${f(p.elu, 3)} | ${f(p.cpuMsPerSec, 1)} (${f(p.sysMsPerSec, 1)}) | ${f(p.cpuUsPerScrape, 0)} | ${f(p.scrapesPerSec, 0)} | ${p.failures ?? '-'} | ${p.skippedBusy ?? '-'} | ${f(p.ageP50, 0)} | ${f(p.ageP99, 0)} |`,
      );
    }
    console.log(`\nLoop delay: beyond the monitor's ${RESOLUTION_MS} ms timer. Request-thread CPU: the main thread's utime + stime from /proc (10 ms ticks). Process CPU: every thread (the worker's included). Metrics age: now - updatedAt over all endpoints, sampled every 100 ms. The metric servers run in a child process on the same machine (${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)}).`);
  } finally {
    child.kill();
  }
}
