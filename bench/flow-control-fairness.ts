/**
 * Issue #15 part 5: two tenants share a saturated pool. Tenant B sends a steady load; tenant A floods at 5x
 * its fair share. B's TTFT is measured alone, then beside the flood without flow control, then with flow
 * control (round-robin and global-strict fairness, then round-robin with infergate's `fairShareHoldback`);
 * then priorities: a critical tenant beside a sheddable flood, without flow control, with it, and with the
 * holdback. A program, not a test: prints figures.
 *
 *   npx tsc -p . && node dist/bench/flow-control-fairness.js [--seconds 8] [--pods 2] [--max-num-seqs 4] [--max-concurrency 4]
 *     [--active-window 1s] [--runs solo,nofc,rr,gs,hb,prio-nofc,prio-fc,prio-hb] [--octet 103]
 *
 * Pods: simulated vLLM (`infergate sim`) in a child process, on 127.0.103.x (`--octet`), so the gateway's event loop sees
 * their answers arrive as it would from other machines. Capacity is pods x max-num-seqs
 * sequences; a request is `--tokens` output tokens at `--itl-ms` each. "Fair share" is half the pool's
 * throughput; B sends `--b-share` of its share, A 5x its share (open loop, streamed chat completions). TTFT is
 * the time to the first streamed byte of the body, so it includes any wait in the gateway's queue. Where B's
 * time goes: the gateway's queue (its queue-duration histogram) and the pods' own queues (their
 * `vllm:num_requests_waiting`, sampled every 100 ms).
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { benchArgs } from './lib/bench-args.js';
import { request } from 'undici';
import { startGateway, type RunningGateway } from '../src/cli/start-gateway.js';
import { baseModelRouteYaml, podYaml, poolYaml } from '../src/config/manifests.js';
import { createLogger } from '../src/logger.js';
import { startSimulator, type RunningSimulator } from '../src/sim/simulator.js';
import { percentiles } from '../src/bench/percentiles.js';

const { values } = benchArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    pods: { type: 'string', default: '2' },
    'max-num-seqs': { type: 'string', default: '4' },
    tokens: { type: 'string', default: '20' },
    'itl-ms': { type: 'string', default: '10' },
    'b-share': { type: 'string', default: '0.5' },
    'flood-factor': { type: 'string', default: '5' },
    'max-concurrency': { type: 'string' },
    octet: { type: 'string', default: '103' },
    'active-window': { type: 'string', default: '1s' },
    runs: { type: 'string', default: 'solo,nofc,rr,gs,hb,prio-nofc,prio-fc,prio-hb' },
    'pods-child': { type: 'boolean', default: false },
  },
});
const SECONDS = Math.min(120, Number(values.seconds));
const PODS = Math.min(8, Number(values.pods));
const SEQS = Number(values['max-num-seqs']);
const TOKENS = Number(values.tokens);
const ITL = Number(values['itl-ms']);
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
/** Requests per second the pool completes when full: every sequence slot busy with one request. */
const CAPACITY_RPS = (PODS * SEQS * 1000) / (TOKENS * ITL + 20);
const FAIR_RPS = CAPACITY_RPS / 2;
const B_RPS = FAIR_RPS * Number(values['b-share']);
const A_RPS = FAIR_RPS * Number(values['flood-factor']);
/** The concurrency detector's limit per endpoint; max-num-seqs unless given. */
const MAX_CONCURRENCY = Number(values['max-concurrency'] ?? SEQS);

const HEAD = 'apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\n';
const NO_FLOW_CONTROL = `${HEAD}plugins:\n- type: queue-scorer\n- type: kv-cache-utilization-scorer\n`;
/** Runs in the order given; repeat ids to alternate (`solo,rr,hb,solo,rr,hb`) on a noisy machine. */
const RUNS = values.runs!.split(',');
const flowControl = (fairness: string, holdback = false) => `${HEAD}featureGates: [flowControl]
plugins:
- type: concurrency-detector
  parameters: {maxConcurrency: ${MAX_CONCURRENCY}}
- type: queue-scorer
- type: kv-cache-utilization-scorer
flowControl:
  defaultRequestTTL: 5s
  defaultPriorityBand: {fairnessPolicyRef: ${fairness}}
  defaultNegativePriorityBand: {fairnessPolicyRef: ${fairness}}
  saturationDetector: {pluginRef: concurrency-detector}
${holdback ? `  fairShareHoldback: {activeWindow: ${values['active-window']}}\n` : ''}`;

interface Result {
  ttft: number[];
  ok: number;
  status: Map<number, number>;
}

/** One streamed chat completion: the time to the first body byte, or the error status. Never throws. */
async function ask(url: string, headers: Record<string, string>, r: Result, i: number): Promise<void> {
  const t0 = performance.now();
  try {
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: `question ${i}` }], max_tokens: TOKENS, stream: true }),
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    r.status.set(res.statusCode, (r.status.get(res.statusCode) ?? 0) + 1);
    let first = true;
    for await (const _chunk of res.body) {
      if (first && res.statusCode === 200) r.ttft.push(performance.now() - t0);
      first = false;
    }
    if (res.statusCode === 200) r.ok++;
  } catch {
    r.status.set(0, (r.status.get(0) ?? 0) + 1);
  }
}

/** Sends at `rps` for `seconds`, open loop; resolves when every request has ended. */
async function openLoop(url: string, rps: number, seconds: number, headers: Record<string, string>): Promise<Result> {
  const r: Result = { ttft: [], ok: 0, status: new Map() };
  if (rps <= 0) return r;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const total = Math.round(rps * seconds);
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rps;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((res) => setTimeout(res, wait));
    pending.push(ask(url, headers, r, i));
  }
  await Promise.all(pending);
  return r;
}

/** The pods' addresses and their shared port. */
interface Pods {
  hosts: string[];
  port: number;
}

async function withGateway<T>(sims: Pods, epp: string, body: (gw: RunningGateway) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'fc-bench-'));
  const objectives = ['critical', 10, 'sheddable', -1]
    .reduce<string[]>((out, v, i, a) => (i % 2 === 0 ? [...out, `apiVersion: llm-d.ai/v1alpha2\nkind: InferenceObjective\nmetadata: {name: ${v}}\nspec: {priority: ${a[i + 1]}, poolRef: {group: inference.networking.k8s.io, name: pool}}\n`] : out), []);
  await writeFile(join(dir, 'all.yaml'), [...sims.hosts.map((h, i) => podYaml(`p${i}`, h, { app: 'bench' })), poolYaml('pool', { app: 'bench' }, sims.port), baseModelRouteYaml('r', MODEL, [['pool', 1]]), ...objectives].join('---\n'));
  const gw = await startGateway({ configPath: dir, host: '127.0.0.1', port: 0, log: createLogger('silent'), eppConfig: { text: epp, file: 'bench-epp.yaml' } });
  try {
    return await body(gw);
  } finally {
    await gw.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Mean queue wait (ms) of a tenant's dispatched requests, from the gateway's own histogram. */
async function meanQueueMs(gw: RunningGateway, tenant: string): Promise<number> {
  const text = await gw.metrics.registry.metrics();
  const pick = (what: string): number => {
    const re = new RegExp(`^llm_d_epp_flow_control_request_queue_duration_seconds_${what}\\{fairness_id="${tenant}",[^}]*outcome="Dispatched"[^}]*\\} (\\S+)$`, 'm');
    return Number(re.exec(text)?.[1] ?? NaN);
  };
  return (pick('sum') / pick('count')) * 1000;
}

/** Samples the pods' own waiting queues (`vllm:num_requests_waiting`, summed) every 100 ms until stopped. */
function samplePodQueues(sims: Pods): { stop: () => Promise<string> } {
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    for (let i = 0; running && i < 10_000; i++) {
      let sum = 0;
      for (const h of sims.hosts) {
        try {
          const res = await request(`http://${h}:${sims.port}/metrics`);
          const text = await res.body.text();
          sum += Number(/^vllm:num_requests_waiting\{[^}]*\} (\S+)$/m.exec(text)?.[1] ?? 0);
        } catch {
          // a scrape that fails is left out
        }
      }
      samples.push(sum);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      const p = percentiles(samples);
      return `pods' own waiting queues (sum over pods, ${samples.length} samples): mean ${p.mean.toFixed(2)}, p90 ${p.p90.toFixed(0)}, max ${Math.max(...samples)}`;
    },
  };
}

const fmt = (v: number): string => (Number.isNaN(v) ? '-' : v.toFixed(0));
const statuses = (r: Result): string => [...r.status].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}:${n}`).join(' ');
function row(name: string, b: Result, a?: Result): void {
  const p = percentiles(b.ttft);
  console.log(`| ${name} | ${fmt(p.p50)} | ${fmt(p.p90)} | ${fmt(p.p99)} | ${statuses(b)} | ${a ? statuses(a) : '-'} |`);
}

/** In the child: starts the pods, reports where they are, and closes them when the parent goes. */
async function podsChild(): Promise<void> {
  const sims: RunningSimulator[] = [];
  let port = 0;
  for (let i = 0; i < PODS; i++) {
    const s = await startSimulator({ model: MODEL, host: `127.0.${Number(values.octet)}.${i + 2}`, port, podName: `p${i}`, ttftMs: 20, itlMs: ITL, maxNumSeqs: SEQS });
    port = s.port;
    sims.push(s);
  }
  process.send!({ hosts: sims.map((s) => s.host), port } satisfies Pods);
  process.once('disconnect', () => void Promise.all(sims.map((s) => s.close())).then(() => process.exit(0)));
}

async function main(): Promise<void> {
  const child = fork(process.argv[1]!, [...process.argv.slice(2), '--pods-child'], { stdio: 'inherit' });
  const [sims] = (await once(child, 'message')) as [Pods];
  try {
    console.log(`pool: ${PODS} pods x max-num-seqs ${SEQS}, ${TOKENS} tokens x ${ITL} ms: ~${CAPACITY_RPS.toFixed(1)} req/s; B ${B_RPS.toFixed(1)} req/s, A ${A_RPS.toFixed(1)} req/s (${values['flood-factor']}x its fair share of ${FAIR_RPS.toFixed(1)}); concurrency-detector maxConcurrency ${MAX_CONCURRENCY}; ${SECONDS} s per run`);
    console.log(`runs in this order: ${RUNS.join(', ')}`);
    console.log('\n| run | B TTFT p50 ms | B TTFT p90 ms | B TTFT p99 ms | B statuses | A statuses |\n|---|---|---|---|---|---|');
    const B = { 'x-llm-d-inference-fairness-id': 'tenant-b' };
    const A = { 'x-llm-d-inference-fairness-id': 'tenant-a' };
    // Priorities: B critical (priority 10), A sheddable (priority -1), same rates.
    const crit = { ...B, 'x-llm-d-inference-objective': 'critical' };
    const shed = { ...A, 'x-llm-d-inference-objective': 'sheddable' };
    const details: string[] = [];
    const both = async (name: string, gw: RunningGateway, a: Record<string, string>, b: Record<string, string>) => {
      const pods = samplePodQueues(sims);
      // The gateway and the load generator share this process: a late event loop delays B's first byte too.
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      const out = await Promise.all([openLoop(gw.url, B_RPS, SECONDS, b), openLoop(gw.url, A_RPS, SECONDS, a)]);
      loop.disable();
      const lag = `event-loop delay p90 ${(loop.percentile(90) / 1e6).toFixed(0)} ms, max ${(loop.max / 1e6).toFixed(0)} ms`;
      const mb = await meanQueueMs(gw, 'tenant-b');
      const gateway = Number.isNaN(mb) ? '' : `mean queue wait in the gateway of B's dispatched requests ${mb.toFixed(1)} ms, of A's ${(await meanQueueMs(gw, 'tenant-a')).toFixed(1)} ms; `;
      details.push(`${name}: ${gateway}${await pods.stop()}; ${lag}; A served ${out[1].ok}`);
      return out;
    };
    const table: Record<string, [string, string, Record<string, string>, Record<string, string>]> = {
      nofc: ['B + A flood, no flow control', NO_FLOW_CONTROL, A, B],
      rr: ['B + A flood, flow control, round-robin', flowControl('round-robin-fairness-policy'), A, B],
      gs: ['B + A flood, flow control, global-strict (FCFS)', flowControl('global-strict-fairness-policy'), A, B],
      hb: ['B + A flood, flow control, round-robin + fairShareHoldback', flowControl('round-robin-fairness-policy', true), A, B],
      'prio-nofc': ['B critical + A sheddable flood, no flow control (legacy admission sheds A at saturation)', NO_FLOW_CONTROL, shed, crit],
      'prio-fc': ['B critical + A sheddable flood, flow control', flowControl('round-robin-fairness-policy'), shed, crit],
      'prio-hb': ['B critical + A sheddable flood, flow control + fairShareHoldback', flowControl('round-robin-fairness-policy', true), shed, crit],
    };
    for (const id of RUNS) {
      if (id === 'solo') {
        row('B alone', await withGateway(sims, NO_FLOW_CONTROL, (gw) => openLoop(gw.url, B_RPS, SECONDS, B)));
        continue;
      }
      const t = table[id];
      if (t === undefined) throw new Error(`--runs: unknown run "${id}"; known: solo, ${Object.keys(table).join(', ')}`);
      const [name, epp, a, b] = t;
      const [rb, ra] = await withGateway(sims, epp, (gw) => both(name, gw, a, b));
      row(name, rb, ra);
    }
    console.log('');
    for (const d of details) console.log(`- ${d}`);
  } finally {
    child.disconnect();
    await once(child, 'exit');
  }
}

if (values['pods-child']) await podsChild();
else await main();
