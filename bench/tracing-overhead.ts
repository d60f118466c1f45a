/**
 * What OpenTelemetry tracing costs per request: `infergate serve` processes in front of the same fast
 * fixed-answer upstream, one with tracing off (the default) and one per OTLP protocol exporting every request
 * (sampler always on) to a local sink (OTLP/HTTP, or a gRPC TraceService), loaded alternately round by round so
 * the machine's noise hits all alike. Prints throughput at N connections and latency at one connection for each.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/tracing-overhead.js [--concurrency 50] [--seconds 5] [--rounds 3] [--stream] [--ratio 1] [--protocols http/protobuf,grpc]
 *
 * `--ratio R` below 1 samples that share of requests (OTEL_TRACES_SAMPLER=parentbased_traceidratio).
 */
import { createRequire } from 'node:module';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from './lib/bench-args.js';
import { onePodFleetYaml } from '../src/config/manifests.js';
import { closedLoop, type LoadResult } from './scenarios/lib/closed-loop.js';
import { OTLP_PROTOCOLS, type OtlpProtocol } from '../src/observability/tracing/tracing-config.js';
import { CLI, cpuMs, rssMiB, start, startNode, stopAll, waitForUrl } from './scenarios/lib/processes.js';

const { values } = benchArgs({
  options: {
    concurrency: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    stream: { type: 'boolean', default: false },
    ratio: { type: 'string', default: '1' },
    protocols: { type: 'string', default: 'http/protobuf' },
  },
});
const CONCURRENCY = Number(values.concurrency);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const RATIO = Number(values.ratio);
const SAMPLER: NodeJS.ProcessEnv = RATIO >= 1 ? { OTEL_TRACES_SAMPLER: 'always_on' } : { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: String(RATIO) };
const ON = RATIO >= 1 ? 'tracing on (every request)' : `tracing on (${RATIO * 100}% sampled)`;
const PROTOCOLS = values.protocols.split(',').filter(Boolean);
for (const p of PROTOCOLS) {
  if (!OTLP_PROTOCOLS.includes(p as OtlpProtocol)) {
    console.error(`--protocols: "${p}" is not one of ${OTLP_PROTOCOLS.join(', ')}`);
    process.exit(2);
  }
}
const HOST = '127.0.73.20';
const UPSTREAM = { host: '127.0.73.21', port: 18620 };
const SINK_PORT = 18621;
const GRPC_SINK_PORT = 18624;
/** Tracing off on the first port, then one gateway per protocol on the next ones. */
const GATEWAY_PORT = 18625;
const MODEL = 'bench/model';

/**
 * The upstream and the OTLP sinks, in a process of their own: a fixed completion (SSE when asked) with its
 * usage, `/v1/models` for discovery, an empty `/metrics`; POST /v1/traces answered `{}` after reading it, and a
 * gRPC TraceService/Export that takes the request's bytes and answers an empty response, decoding neither.
 */
const SERVERS = `
const http = require('node:http');
const [host, port, sinkPort, model, grpcPath, grpcSinkPort] = process.argv.slice(1);
const grpc = require(grpcPath);
const bytes = { requestDeserialize: (b) => b, requestSerialize: (b) => b, responseSerialize: () => Buffer.alloc(0), responseDeserialize: (b) => b };
const sink = new grpc.Server();
sink.addService({ Export: { path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', requestStream: false, responseStream: false, ...bytes } }, { Export: (call, cb) => cb(null, {}) });
sink.bindAsync(host + ':' + grpcSinkPort, grpc.ServerCredentials.createInsecure(), (e) => { if (e) throw e; });
const usage = { prompt_tokens: 8, completion_tokens: 1, total_tokens: 9 };
const whole = JSON.stringify({ id: 'c', object: 'text_completion', created: 1, model, choices: [{ index: 0, text: 'hi', finish_reason: 'length' }], usage });
const chunk = 'data: ' + JSON.stringify({ id: 'c', object: 'text_completion', created: 1, model, choices: [{ index: 0, text: 'hi', finish_reason: 'length' }] }) + '\\n\\ndata: ' + JSON.stringify({ id: 'c', object: 'text_completion', created: 1, model, choices: [], usage }) + '\\n\\ndata: [DONE]\\n\\n';
const models = JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', root: model, parent: null }] });
http.createServer({ keepAliveTimeout: 65000 }, (req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    if (req.url === '/v1/models') return res.writeHead(200, { 'content-type': 'application/json' }).end(models);
    if (req.url === '/metrics') return res.writeHead(200, { 'content-type': 'text/plain' }).end('vllm:num_requests_waiting 0\\nvllm:num_requests_running 0\\nvllm:kv_cache_usage_perc 0\\n');
    if (req.url === '/health') return res.writeHead(200).end();
    if (body.includes('"stream":true')) return res.writeHead(200, { 'content-type': 'text/event-stream' }).end(chunk);
    res.writeHead(200, { 'content-type': 'application/json' }).end(whole);
  });
}).listen(Number(port), host);
http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}')); }).listen(Number(sinkPort), host);
`;


interface Target {
  name: string;
  origin: string;
  pid: number | undefined;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-tracing-bench-'));
  await writeFile(join(dir, 'fleet.yaml'), onePodFleetYaml('bench', UPSTREAM.host, UPSTREAM.port, MODEL));
  start(process.execPath, ['-e', SERVERS, UPSTREAM.host, String(UPSTREAM.port), String(SINK_PORT), MODEL, createRequire(import.meta.url).resolve('@grpc/grpc-js'), String(GRPC_SINK_PORT)]);
  try {
    await waitForUrl(`http://${UPSTREAM.host}:${UPSTREAM.port}/health`);
    const serve = (port: number, extra: string[]): Target['pid'] => startNode(CLI, ['serve', '-f', dir, '--host', HOST, '--port', String(port), '--admin-port', '0', '--log-level', 'warn', ...extra], SAMPLER).pid;
    const targets: Target[] = [{ name: 'tracing off', origin: `http://${HOST}:${GATEWAY_PORT}`, pid: serve(GATEWAY_PORT, []) }];
    for (const [i, protocol] of PROTOCOLS.entries()) {
      const port = GATEWAY_PORT + 1 + i;
      const sink = protocol === 'grpc' ? `http://${UPSTREAM.host}:${GRPC_SINK_PORT}` : `http://${UPSTREAM.host}:${SINK_PORT}`;
      targets.push({ name: PROTOCOLS.length === 1 && protocol === 'http/protobuf' ? ON : `${ON}, ${protocol}`, origin: `http://${HOST}:${port}`, pid: serve(port, ['--otlp-endpoint', sink, '--otlp-protocol', protocol]) });
    }
    for (const t of targets) await waitForUrl(`${t.origin}/readyz`);
    const body = JSON.stringify({ model: MODEL, prompt: 'Say hello to the tracing benchmark.', max_tokens: 1, stream: values.stream, ...(values.stream ? { stream_options: { include_usage: true } } : {}) });
    const run = (t: Target, seconds: number, concurrency: number): Promise<LoadResult> => closedLoop({ origin: t.origin, target: t.name, seconds, concurrency, path: '/v1/completions', body });
    for (const t of targets) await run(t, 1, CONCURRENCY); // warm-up: JIT, connection pools
    const loaded = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
    const single = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
    const rss = new Map<string, number>();
    const cpu = new Map<string, { ms: number; requests: number }>(targets.map((t) => [t.name, { ms: 0, requests: 0 }]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const t of r % 2 === 0 ? targets : [...targets].reverse()) {
        process.stderr.write(`round ${r + 1}/${ROUNDS}: ${t.name}...\r`);
        // CPU per request is steadier than throughput on a shared machine: other load slows both gateways but charges neither.
        const before = cpuMs(t.pid) ?? NaN;
        const result = await run(t, SECONDS, CONCURRENCY);
        loaded.get(t.name)!.push(result);
        const c = cpu.get(t.name)!;
        c.ms += (cpuMs(t.pid) ?? NaN) - before;
        c.requests += result.requests;
        single.get(t.name)!.push(await run(t, Math.max(1, SECONDS / 2), 1));
        const m = rssMiB(t.pid);
        if (m !== null) rss.set(t.name, Math.max(rss.get(t.name) ?? 0, m));
      }
    }
    const mean = (xs: LoadResult[], k: 'rps' | 'p50' | 'p99'): number => xs.reduce((s, x) => s + x[k], 0) / xs.length;
    const off = loaded.get('tracing off')!;
    console.log(`\ntracing overhead: ${values.stream ? 'streamed' : 'non-streamed'} /v1/completions, ${CONCURRENCY} connections x ${SECONDS} s and 1 connection x ${Math.max(1, SECONDS / 2)} s, ${ROUNDS} rounds alternated\n`);
    const cpuPerRequest = (name: string): number => (cpu.get(name)!.ms * 1000) / cpu.get(name)!.requests;
    console.log('| gateway | req/s | vs off | gateway CPU µs/request | vs off | p50 ms | p99 ms | p50 ms at 1 conn | peak RSS MiB | errors |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const t of targets) {
      const xs = loaded.get(t.name)!;
      const one = single.get(t.name)!;
      const errors = [...xs, ...one].reduce((s, x) => s + x.errors, 0);
      const us = cpuPerRequest(t.name);
      console.log(`| ${t.name} | ${mean(xs, 'rps').toFixed(0)} | ${(mean(xs, 'rps') / mean(off, 'rps')).toFixed(3)}x | ${us.toFixed(0)} | ${(us / cpuPerRequest('tracing off')).toFixed(2)}x | ${mean(xs, 'p50').toFixed(2)} | ${mean(xs, 'p99').toFixed(2)} | ${mean(one, 'p50').toFixed(3)} | ${rss.get(t.name)?.toFixed(0) ?? '-'} | ${errors} |`);
    }
    console.log(`\nper round, req/s: ${targets.map((t) => `${t.name}: ${loaded.get(t.name)!.map((x) => x.rps.toFixed(0)).join(', ')}`).join('; ')}`);
  } finally {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
