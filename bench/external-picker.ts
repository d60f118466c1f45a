/**
 * What an external endpoint picker costs a request through `serve`: the same two simulated pods behind two pools,
 * one picked by infergate itself, one by an infergate `extproc` (a child process, so its CPU is its own) that the
 * pool's endpointPickerRef names. Each request is a 4 KB chat completion answered with one token. A program, not a
 * test: prints p50 / p99 per request at concurrency 1 and requests/s at concurrency 8 for each pool, as a Markdown
 * table. Bounded by --seconds per phase and a request cap.
 *
 *   npx tsc -p . && node dist/bench/external-picker.js [--seconds 5] [--concurrency 8] [--plaintext]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { podYaml } from '../src/config/manifests.js';
import { percentiles } from '../src/bench/percentiles.js';
import { startGateway } from '../src/cli/start-gateway.js';
import { createLogger } from '../src/logger.js';
import { startSimulator } from '../src/sim/simulator.js';
import { forkExtproc } from './lib/extproc-child.js';
import { timedPhase as phase } from './lib/timed-phase.js';
import { benchArgs, positiveFlag } from './lib/bench-args.js';

const { values } = benchArgs({ options: { seconds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '8' }, plaintext: { type: 'boolean', default: false } } });

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const EPP_HOST = '127.0.89.2';
const POD_HOSTS = ['127.0.90.2', '127.0.90.3'];

const plaintext = values.plaintext;

/** Two pools over the same pods, routed by the header `x-pool`; `eppPort` adds the external one's ref and Service. */
function config(port: number, eppPort?: number): string {
  const pool = (name: string, ref: boolean): string => `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: ${name}}
spec:
  selector: {matchLabels: {app: llama}}
  targetPorts: [{number: ${port}}]
${ref && eppPort !== undefined ? `  endpointPickerRef: {name: llama-epp, port: {number: ${eppPort}}, failureMode: FailClose}\n` : ''}`;
  const route = (name: string): string => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}}
spec:
  rules:
    - matches: [{path: {type: PathPrefix, value: /}, headers: [{type: Exact, name: x-pool, value: ${name}}]}]
      backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: ${name}}]
`;
  const service = eppPort === undefined ? [] : [`apiVersion: v1\nkind: Service\nmetadata: {name: llama-epp}\nspec: {clusterIP: ${EPP_HOST}, ports: [{port: ${eppPort}}]}\n`];
  return [...POD_HOSTS.map((h, i) => podYaml(`llama-${i}`, h, { app: 'llama' })), pool('self', false), pool('external', true), route('self'), route('external'), ...service].join('---\n');
}

async function main(): Promise<void> {
  const seconds = positiveFlag(values, 'seconds');
  const concurrency = positiveFlag(values, 'concurrency');
  const loadBefore = loadavg()[0]!;
  const sims = [await startSimulator({ host: POD_HOSTS[0]!, port: 0, model: MODEL, ttftMs: 0, itlMs: 0 })];
  sims.push(await startSimulator({ host: POD_HOSTS[1]!, port: sims[0]!.port, model: MODEL, ttftMs: 0, itlMs: 0 }));
  const port = sims[0]!.port;
  const eppDir = await mkdtemp(join(tmpdir(), 'infergate-bench-epp-'));
  const gwDir = await mkdtemp(join(tmpdir(), 'infergate-bench-gw-'));
  await writeFile(join(eppDir, 'all.yaml'), config(port));
  // The external picker, in a child process so that its CPU is its own.
  const child = await forkExtproc({ configPath: eppDir, host: EPP_HOST, secureServing: !plaintext });
  const eppPort = child.ports.epp;
  await writeFile(join(gwDir, 'all.yaml'), config(port, eppPort));
  const gw = await startGateway({ configPath: gwDir, host: '127.0.89.1', port: 0, log: createLogger('warn'), eppServiceName: 'infergate', externalPickers: { plaintext } });
  const filler = 'lorem ipsum dolor sit amet '.repeat(150);
  const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: filler }], max_tokens: 1 });
  const send = (pool: string) => async (): Promise<void> => {
    const r = await request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-pool': pool }, body });
    await r.body.text();
    if (r.statusCode !== 200) throw new Error(`${pool}: ${r.statusCode}`);
  };
  const rows: string[] = [];
  try {
    for (const pool of ['self', 'external']) await phase(send(pool), 2, 500, 2000);
    for (const pool of ['self', 'external']) {
      const lat = await phase(send(pool), 1, 5000, seconds * 1000);
      const thr = await phase(send(pool), concurrency, 50_000, seconds * 1000);
      const p = percentiles(lat.latencies);
      rows.push(`| ${pool === 'self' ? 'infergate picks' : `external picker (infergate extproc, ${plaintext ? 'plaintext' : 'TLS'})`} | ${lat.latencies.length} | ${p.p50.toFixed(2)} | ${p.p99.toFixed(2)} | ${(thr.latencies.length / (thr.wallMs / 1000)).toFixed(0)} |`);
    }
  } finally {
    await gw.close();
    await child.stop();
    await Promise.all(sims.map((s) => s.close()));
    await rm(eppDir, { recursive: true, force: true });
    await rm(gwDir, { recursive: true, force: true });
  }
  console.log(`serve, 4 KB chat completion answered with 1 token by a simulated pod (no delay); ${cpus().length} vCPU, Node ${process.version}; latency at concurrency 1, throughput at concurrency ${concurrency}, ${seconds} s per phase at most; 1-minute load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after. Gateway, picker and pods share the machine.\n`);
  console.log(`| pool's picker | requests (c=1) | p50 ms | p99 ms | req/s (c=${concurrency}) |`);
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
}

await main();
