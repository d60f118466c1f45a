/**
 * A pod that accepts requests and never answers, while its /v1/models and /metrics look idle, through a
 * gateway with default flags (or those given): (a) alone in its pool, how long until the client gets an
 * answer, streamed and not; (b) beside a healthy simulated pod, N concurrent requests: how many succeed, how
 * many reached the hung pod, their latency, and whether it was ejected. A program, not a test: prints figures.
 * The pods (a simulator and the hung pod, 127.0.62.x on loopback) run in a child process, as they would on
 * other machines: the gateway's event loop sees their answers arrive as it would in a cluster.
 *
 *   npx tsc -p . && node dist/bench/hung-pod.js [--alone streamed,non-streamed] [--beside streamed,non-streamed]
 *     [--requests 20] [--runs 1] [--prompt shared|distinct] [--stream-headers-timeout 10s] ...   (any `serve` upstream flag)
 *
 * Both default to `streamed`: a non-streamed request the hung pod holds waits the whole response header
 * timeout (10 minutes by default) before it is tried elsewhere.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from './lib/bench-args.js';
import { request } from 'undici';
import { startGateway } from '../src/cli/start-gateway.js';
import { upstreamOptionsOf } from '../src/cli/upstream-options.js';
import { baseModelRouteYaml, podYaml, poolYaml } from '../src/config/manifests.js';
import { createLogger } from '../src/logger.js';
import { startSimulator } from '../src/sim/simulator.js';
import { startHungPod } from '../src/upstream/hung-pod.js';
import { parseSetting } from '../src/upstream/setting.js';
import { OUTLIER_SETTINGS } from '../src/upstream/outlier-detection.js';
import { TIMEOUT_SETTINGS } from '../src/upstream/timeouts.js';
import { percentiles } from '../src/bench/percentiles.js';

const SETTINGS = [...TIMEOUT_SETTINGS, ...OUTLIER_SETTINGS];
const { values } = benchArgs({
  options: {
    requests: { type: 'string', default: '20' },
    runs: { type: 'string', default: '1' },
    prompt: { type: 'string', default: 'shared' },
    alone: { type: 'string', default: 'streamed' },
    beside: { type: 'string', default: 'streamed' },
    pods: { type: 'boolean', default: false },
    ...Object.fromEntries(SETTINGS.map((s) => [s.name, { type: 'string' as const }])),
  },
});
const N = Math.min(200, Number(values.requests));
const RUNS = Math.min(50, Number(values.runs));
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const flags: Record<string, unknown> = {};
for (const s of SETTINGS) {
  const text = (values as Record<string, string | boolean | undefined>)[s.name];
  if (typeof text !== 'string') continue;
  const r = parseSetting(s, text);
  if ('error' in r) throw new Error(`--${s.name} ${r.error}`);
  flags[s.name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())] = r.value;
}

interface Answer {
  status: number;
  ms: number;
  pod: string;
  code: string;
}

/** One chat completion, read to its end; never throws (a cut stream is status 0). */
async function ask(url: string, i: number, stream: boolean): Promise<Answer> {
  const system = 'You are a helpful assistant who answers in one short sentence. '.repeat(20);
  const messages = values.prompt === 'shared' ? [{ role: 'system', content: system }, { role: 'user', content: `question ${i}` }] : [{ role: 'user', content: `question ${i}: ${'x'.repeat(i % 50)}` }];
  const t0 = performance.now();
  try {
    // No client-side limits: the point is how long the gateway makes a client wait.
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages, max_tokens: 8, stream }),
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    const text = await res.body.text();
    const code = res.statusCode >= 400 ? ((JSON.parse(text) as { error?: { code?: string } }).error?.code ?? '') : '';
    return { status: res.statusCode, ms: performance.now() - t0, pod: String(res.headers['x-inference-pod'] ?? '-'), code };
  } catch (e) {
    return { status: 0, ms: performance.now() - t0, pod: '-', code: (e as Error).message };
  }
}

const SIM = '127.0.62.2';
const HUNG = '127.0.62.9';

/** The child: both pods, their port sent to the parent, then the hung pod's count on each request for it. */
async function servePods(): Promise<void> {
  const sim = await startSimulator({ model: MODEL, host: SIM, port: 0, podName: 'healthy-0', ttftMs: 20, itlMs: 10 });
  const hung = await startHungPod({ host: HUNG, port: sim.port, model: MODEL });
  process.on('message', (m) => {
    if (m === 'held') process.send!({ held: hung.held() });
    else if (m === 'stop') void Promise.all([hung.close(), sim.close()]).then(() => process.exit(0));
  });
  process.send!({ port: sim.port });
}

async function ask1<T>(child: ChildProcess, message: string): Promise<T> {
  child.send(message);
  const [reply] = (await once(child, 'message')) as [T];
  return reply;
}

/** A pool of the hung pod, plus a healthy simulated pod when `healthy`, behind a gateway with `flags`. */
async function withPool<T>(healthy: boolean, run: (url: string, held: () => Promise<number>, ejected: () => string | undefined) => Promise<T>): Promise<T> {
  const child = fork(process.argv[1]!, ['--pods'], { stdio: 'inherit' });
  const [{ port }] = (await once(child, 'message')) as [{ port: number }];
  const dir = await mkdtemp(join(tmpdir(), 'hung-pod-'));
  const docs = [...(healthy ? [podYaml('healthy-0', SIM, { app: 'llama' })] : []), podYaml('hung-0', HUNG, { app: 'llama' }), poolYaml('llama', { app: 'llama' }, port), baseModelRouteYaml('llama', MODEL, [['llama', 1]])];
  await writeFile(join(dir, 'all.yaml'), docs.join('---\n'));
  const gw = await startGateway({ configPath: dir, host: '127.0.0.1', port: 0, log: createLogger('silent'), ...upstreamOptionsOf(flags) });
  const ep = gw.gateway.datastore.endpoint(`${HUNG}:${port}`)!;
  try {
    return await run(gw.url, async () => (await ask1<{ held: number }>(child, 'held')).held, () => (ep.outlier.isEjected(Date.now()) ? ep.outlier.ejection?.detail : undefined));
  } finally {
    await gw.close();
    child.send('stop');
    await once(child, 'exit');
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  console.log(`hung pod, node ${process.version}, flags: ${Object.keys(flags).length > 0 ? JSON.stringify(flags) : 'defaults'}, ${values.prompt} prompts`);
  for (const kind of list(values.alone)) {
    const a = await withPool(false, (url) => ask(url, 0, kind === 'streamed'));
    console.log(`alone, ${kind}: HTTP ${a.status} ${a.code} after ${s(a.ms)}`);
  }
  for (const kind of list(values.beside)) {
    const heldPerRun: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      // A fresh gateway and pods each run: the burst meets a hung pod nothing is known about yet.
      const r = await withPool(true, async (url, held, ejected) => {
        const answers = await Promise.all(Array.from({ length: N }, (_, i) => ask(url, i, kind === 'streamed')));
        return { answers, held: await held(), ejected: ejected() };
      });
      heldPerRun.push(r.held);
      const ok = r.answers.filter((a) => a.status === 200);
      const p = percentiles(r.answers.map((a) => a.ms));
      const slow = r.answers.filter((a) => a.ms > 10_000).length;
      console.log(
        `beside a healthy pod, ${N} concurrent ${kind}${RUNS > 1 ? ` (run ${run})` : ''}: ${ok.length}/${N} ok, ${r.held} reached the hung pod, ` +
          `latency p50 ${s(p.p50)} p99 ${s(p.p99)} max ${s(Math.max(...r.answers.map((a) => a.ms)))}, ${slow} over 10 s; ejected: ${r.ejected ?? 'no'}`,
      );
    }
    if (RUNS > 1) console.log(`  reached the hung pod per run, sorted: ${heldPerRun.sort((a, b) => a - b).join(', ')}`);
  }
}

function list(v: string | boolean | undefined): ('streamed' | 'non-streamed')[] {
  const items = typeof v === 'string' ? v.split(',').filter((x) => x !== '') : [];
  for (const x of items) if (x !== 'streamed' && x !== 'non-streamed') throw new Error(`expected streamed and/or non-streamed, got ${x}`);
  return items as ('streamed' | 'non-streamed')[];
}

if (values.pods) await servePods();
else await main();
