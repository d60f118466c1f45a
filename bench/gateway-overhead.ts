/**
 * Gateway overhead: the same closed-loop load sent straight to a simulated pod and through `infergate serve`,
 * alternated in one run (direct, gateway, direct, gateway) so the machine's noise hits both alike.
 * The simulator answers at once (ttft 0, itl 0, 1 token), so the difference is what the gateway costs.
 *
 *   npm run build && node dist/bench/gateway-overhead.js [--concurrency 16] [--seconds 5] [--stream]
 *
 * Each process (load generator, gateway, simulator) is its own Node process, as in a deployment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const { values } = parseArgs({ options: { concurrency: { type: 'string', default: '16' }, seconds: { type: 'string', default: '5' }, stream: { type: 'boolean', default: false }, rounds: { type: 'string', default: '2' } } });
const CONCURRENCY = Number(values.concurrency);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const STREAM = values.stream === true;
const SIM_HOST = '127.0.40.2';
const SIM_PORT = 18400;
const GW_PORT = 18401;
const MODEL = 'bench/model';

interface Result {
  target: string;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
}

function start(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  return child;
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became ready`);
}

async function load(origin: string, target: string, seconds: number): Promise<Result> {
  const pool = new Pool(origin, { connections: CONCURRENCY });
  const body = JSON.stringify({ model: MODEL, prompt: 'Say hello to the gateway benchmark.', max_tokens: 1, stream: STREAM });
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async (): Promise<void> => {
    // Bounded by time and by count, whichever comes first.
    for (let n = 0; n < 1_000_000 && performance.now() < end; n++) {
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: '/v1/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await res.body.text();
        if (res.statusCode !== 200) errors++;
        else latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { target, requests: latencies.length, errors, rps: latencies.length / elapsed, p50: q(0.5), p90: q(0.9), p99: q(0.99) };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-bench-'));
  await writeFile(
    join(dir, 'fleet.yaml'),
    `apiVersion: v1
kind: Pod
metadata: {name: bench-0, labels: {app: bench}}
status: {podIP: ${SIM_HOST}, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: bench}
spec: {selector: {matchLabels: {app: bench}}, targetPorts: [{number: ${SIM_PORT}}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bench}
spec:
  rules:
    - matches: [{headers: [{name: X-Gateway-Base-Model-Name, value: ${MODEL}}]}]
      backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: bench}]
`,
  );
  const sim = start(['sim', '--model', MODEL, '--host', SIM_HOST, '--port', String(SIM_PORT), '--ttft', '0', '--itl', '0', '--max-num-seqs', '1024']);
  const gw = start(['serve', '-f', dir, '--port', String(GW_PORT), '--log-level', 'warn']);
  try {
    await waitReady(`http://${SIM_HOST}:${SIM_PORT}/health`);
    await waitReady(`http://127.0.0.1:${GW_PORT}/readyz`);
    const direct = `http://${SIM_HOST}:${SIM_PORT}`;
    const viaGw = `http://127.0.0.1:${GW_PORT}`;
    await load(direct, 'warm-up', 1);
    await load(viaGw, 'warm-up', 1);
    const results: Result[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      results.push(await load(direct, 'direct to pod', SECONDS));
      results.push(await load(viaGw, 'through infergate', SECONDS));
    }
    const f = (n: number): string => n.toFixed(2);
    console.log(`\nconcurrency ${CONCURRENCY}, ${SECONDS}s per run, ${ROUNDS} rounds, ${STREAM ? 'streamed' : 'non-streamed'} 1-token completions\n`);
    console.log('| target | requests | errors | req/s | p50 ms | p90 ms | p99 ms |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const x of results) console.log(`| ${x.target} | ${x.requests} | ${x.errors} | ${x.rps.toFixed(0)} | ${f(x.p50)} | ${f(x.p90)} | ${f(x.p99)} |`);
    const d = results.filter((x) => x.target === 'direct to pod');
    const g = results.filter((x) => x.target === 'through infergate');
    const mean = (xs: Result[], k: keyof Result): number => xs.reduce((s, x) => s + (x[k] as number), 0) / xs.length;
    console.log(`\nadded latency p50: ${f(mean(g, 'p50') - mean(d, 'p50'))} ms, p99: ${f(mean(g, 'p99') - mean(d, 'p99'))} ms; throughput ratio gateway/direct: ${(mean(g, 'rps') / mean(d, 'rps')).toFixed(2)}`);
  } finally {
    sim.kill('SIGTERM');
    gw.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
