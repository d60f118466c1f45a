/**
 * ext_proc round trip on loopback: BBR then the EPP, as Envoy chains them, for a 4 KB and a 1 MB chat body
 * in FULL_DUPLEX_STREAMED (the body in 16 KiB chunks, streamed back in 62,000-byte chunks) and BUFFERED
 * modes. Each request is a BBR stream (headers, body, answers) then an EPP stream (BBR's headers and body,
 * the pick, then a small response through the response phase). The ext_proc servers run in a child process
 * (plaintext gRPC) so their CPU time is measured apart from the client's; two simulated pods answer the
 * picker's discovery and metrics scrapes.
 * A program, not a test: prints p50 / p99 per request at concurrency 1, then requests/s at concurrency 8
 * and requests per second of server CPU ("per core"), as a Markdown table. Bounded by --seconds per phase.
 *
 *   npx tsc -p . && node dist/bench/extproc-roundtrip.js [--seconds 5] [--concurrency 8] [--debug-decisions 50]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseModelRouteYaml, podYaml, poolYaml } from '../src/config/manifests.js';
import { ExtProcClient, applyHeaderMutation, requestBody, requestBodyChunks, requestHeaders, responseBody, responseHeaders, type ProcessingStreamClient } from '../src/extproc/ext-proc-client.js';
import type { ProcessingResponse } from '../src/envoy/processing-messages.js';
import { DEFAULT_EXTPROC_OPTIONS } from '../src/extproc/start-extproc.js';
import { percentiles } from '../src/bench/percentiles.js';
import { startSimulator } from '../src/sim/simulator.js';
import { forkExtproc } from './lib/extproc-child.js';
import { timedPhase as phase } from './lib/timed-phase.js';
import { benchArgs, nonNegativeFlag, positiveFlag } from './lib/bench-args.js';

const { values } = benchArgs({ options: { seconds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '8' }, 'debug-decisions': { type: 'string', default: String(DEFAULT_EXTPROC_OPTIONS.debugDecisions) } } });

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const ENVOY_CHUNK = 16 * 1024;


type Mode = 'FULL_DUPLEX_STREAMED' | 'BUFFERED';

function body(bytes: number): Buffer {
  const head = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: '' }], max_tokens: 16 });
  const filler = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(bytes / 27)).slice(0, bytes - head.length);
  return Buffer.from(JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: filler }], max_tokens: 16 }));
}

const CLIENT_HEADERS = { ':method': 'POST', ':path': '/v1/chat/completions', ':authority': 'inference.example', ':scheme': 'http', 'content-type': 'application/json' };

/** One filter's request phase; returns the headers and body Envoy would hand the next filter. */
async function filter(s: ProcessingStreamClient, headers: Record<string, string>, bodyChunks: readonly Buffer[], mode: Mode): Promise<{ headers: Record<string, string>; chunks: Buffer[] }> {
  const protocol = { request: mode, response: mode };
  if (mode === 'BUFFERED') {
    s.send(requestHeaders(headers, false, { protocol }));
    await s.next();
    s.send(requestBody(bodyChunks.length === 1 ? bodyChunks[0]! : Buffer.concat(bodyChunks), true));
    const r = await s.next();
    if (r.immediate_response) throw new Error(`rejected: ${r.immediate_response.body?.toString()}`);
    const replaced = r.request_body?.response?.body_mutation?.body;
    return { headers: applyHeaderMutation(headers, r), chunks: replaced ? [replaced] : [...bodyChunks] };
  }
  s.send(requestHeaders(headers, false, { protocol }));
  bodyChunks.forEach((c, i) => s.send(requestBody(c, i === bodyChunks.length - 1)));
  const h: ProcessingResponse = await s.next();
  if (h.immediate_response) throw new Error(`rejected: ${h.immediate_response.body?.toString()}`);
  const chunks: Buffer[] = [];
  for (;;) {
    const streamed = (await s.next()).request_body?.response?.body_mutation?.streamed_response;
    chunks.push(streamed?.body ?? Buffer.alloc(0));
    if (streamed?.end_of_stream) break;
  }
  return { headers: applyHeaderMutation(headers, h), chunks };
}

/** BBR then EPP then the response phase; resolves when both streams have closed. */
async function roundTrip(bbr: ExtProcClient, epp: ExtProcClient, payload: Buffer, mode: Mode): Promise<void> {
  const headers = { ...CLIENT_HEADERS, 'content-length': String(payload.length) };
  const inChunks = mode === 'BUFFERED' ? [payload] : requestBodyChunks(payload, ENVOY_CHUNK).map((m) => m.request_body!.body!);
  const b = bbr.open();
  const afterBbr = await filter(b, headers, inChunks, mode);
  // Envoy hands the next filter the chunks BBR streamed back, as they came.
  const e = epp.open();
  const afterEpp = await filter(e, afterBbr.headers, afterBbr.chunks, mode);
  if (!afterEpp.headers['x-gateway-destination-endpoint']) throw new Error('no pick');
  e.send(responseHeaders({ ':status': '200', 'content-type': 'application/json' }, false), responseBody('{"id":"chatcmpl-1","object":"chat.completion"}', true));
  await e.next();
  await e.next();
  b.end();
  e.end();
  await Promise.all([b.status, e.status]);
}

async function main(): Promise<void> {
  const seconds = positiveFlag(values, 'seconds');
  const loadBefore = loadavg()[0]!;
  const concurrency = positiveFlag(values, 'concurrency');
  // Two pods for the picker to choose from; they are never sent the requests (this measures the ext_proc hop).
  const sims = [await startSimulator({ host: '127.0.45.150', port: 0, model: MODEL })];
  sims.push(await startSimulator({ host: '127.0.45.151', port: sims[0]!.port, model: MODEL }));
  const dir = await mkdtemp(join(tmpdir(), 'infergate-bench-extproc-'));
  await writeFile(
    join(dir, 'all.yaml'),
    [podYaml('llama-0', '127.0.45.150', { app: 'llama' }), podYaml('llama-1', '127.0.45.151', { app: 'llama' }), poolYaml('llama', { app: 'llama' }, sims[0]!.port), baseModelRouteYaml('llama', MODEL, [['llama', 1]])].join('---\n'),
  );
  const child = await forkExtproc({ configPath: dir, debugDecisions: nonNegativeFlag(values, 'debug-decisions') });
  const { ports } = child;
  const bbr = new ExtProcClient(`127.0.0.1:${ports.bbr}`);
  const epp = new ExtProcClient(`127.0.0.1:${ports.epp}`);
  const rows: string[] = [];
  try {
    const scenarios = ([['4 KB', 4096, 5000, 20_000], ['1 MB', 1_048_576, 300, 1000]] as const).flatMap(([label, bytes, latencyCap, throughputCap]) =>
      (['FULL_DUPLEX_STREAMED', 'BUFFERED'] as const).map((mode) => ({ label, mode, payload: body(bytes), latencyCap, throughputCap })),
    );
    // Warm every path first (JIT, connections, the servers' caches), so the first scenario measured is not penalized.
    for (const sc of scenarios) await phase(() => roundTrip(bbr, epp, sc.payload, sc.mode), 2, sc.latencyCap / 10, 2000);
    for (const { label, mode, payload, latencyCap, throughputCap } of scenarios) {
      const run = (): Promise<void> => roundTrip(bbr, epp, payload, mode);
      const lat = await phase(run, 1, latencyCap, seconds * 1000);
      const cpu0 = await child.cpuMs();
      const thr = await phase(run, concurrency, throughputCap, seconds * 1000);
      const cpuMs = (await child.cpuMs()) - cpu0;
      const p = percentiles(lat.latencies);
      const n = thr.latencies.length;
      rows.push(`| ${label} | ${mode} | ${lat.latencies.length} | ${p.p50.toFixed(2)} | ${p.p99.toFixed(2)} | ${(n / (thr.wallMs / 1000)).toFixed(0)} | ${(cpuMs / n).toFixed(3)} | ${(n / (cpuMs / 1000)).toFixed(0)} |`);
      process.stderr.write(`${label} ${mode} done\n`);
    }
  } finally {
    bbr.close();
    epp.close();
    await child.stop();
    await Promise.all(sims.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`ext_proc round trip (BBR then EPP, response phase included), loopback, plaintext gRPC; ${cpus().length} vCPU, Node ${process.version}; latency at concurrency 1, throughput at concurrency ${concurrency}, ${seconds} s per phase at most; 1-minute load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after.\n`);
  console.log('| body | mode | requests (c=1) | p50 ms | p99 ms | req/s (c=' + concurrency + ') | server CPU ms/req | req/s per core |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
}

await main();
