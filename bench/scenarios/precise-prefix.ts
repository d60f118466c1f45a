/**
 * Scenario `precise-prefix` (issue #14, part 5): shared-prefix traffic over simulators that publish vLLM KV events,
 * with the fleet's KV cache sized so the prefix groups need about 72% of it (KV pressure: evictions happen).
 * Compared in one run: round-robin (nginx straight to the pods), infergate load-only, infergate's approximate
 * prefix scoring (the default profile) and precise prefix scoring (llm-d's KV-event pipeline); then 2 and 3
 * gateway replicas behind nginx round-robin, approximate against precise. Every infergate run is N replicas
 * behind nginx, so the single-gateway rows are also the 1-replica rows.
 *
 *   npx tsc -p . && node dist/bench/scenarios/precise-prefix.js [--quick] [--seconds 30] [--rate 12] [--out DIR]
 *     [--replicas 1,2,3] [--pods 5] [--groups 20] [--system-prompt-tokens 3000] [--users 5] [--kv-demand 0.72]
 *     [--mode table|sweep|closed-loop|pressure] [--sweep-rates 12,18,24,30,36,42] [--concurrency 40] [--min-served-ratio 0.9]
 *     [--loopback-octet 107] [--prefill-time-per-token 0.1] [--itl 10] [--time-scale 1] [--repeat 1]
 *     [--approximate-config FILE] [--chars-per-token 4] [--decisions-out DIR] [--group-zipf 0]
 *
 * `--mode table` (default) is the comparison above. The other modes measure issue #14's one-replica KV-pressure
 * target with one gateway replica, approximate against precise, alternated run by run: `sweep` raises the
 * open-loop rate until approximate no longer sustains it (sustain.ts) and compares TTFT p90 at the highest rate it
 * did; `closed-loop` runs `--concurrency` users that each send their next request when the last one finished and
 * compares the output tokens/s each picker achieves; `pressure` runs both. `--repeat N` runs every sweep point and
 * the closed loop N times, the pickers' order swapped each time (A P, P A, ...); the reading then takes the majority's
 * sustain verdict and each picker's median (precise-pressure-verdict.ts). `--approximate-config FILE` gives the
 * approximate runs an EndpointPickerConfig instead of llm-d's default profile, e.g.
 * `bench/scenarios/epp-configs/approximate-llmd-benchmark.yaml`, the approximate picker llm-d measured precise against.
 *
 * `--chars-per-token c` (1-4) gives the simulators a tokenizer of c characters a token and sizes the prompts' texts
 * so the engines still count the same tokens (so the same KV footprint and prefill work): approximate prefix
 * scoring, which takes a token for 4 characters, then misjudges how much of a prompt a pod's blocks hold, as it
 * does with real tokenizers on text that is not English prose; precise scoring reads the pods' own token ids.
 *
 * `--group-zipf s` draws group g with weight 1 / (g + 1)^s instead of uniformly (0, the default, as llm-d's
 * benchmark): a few hot groups, each more than its pod can serve alone, must spread over pods.
 *
 * `--decisions-out DIR` starts every gateway with `--debug-decisions` and its admin listener on a known port, saves
 * each replica's `GET /debug/scheduling` after every run into DIR (one JSON file per run and replica), and reports per
 * run how many pods held each measured request's prefix and how often the pick left every pod that did
 * (prefix-holders.ts): what shows whether groups stay on one pod or spread.
 *
 * `--time-scale k` runs the whole system k times slower in time: the engine's prefill and decode costs, the
 * gateways' metrics scrape interval, precise scoring's `speculativeTTL` and its KV-event `silenceTimeout` are all
 * multiplied by k, so the engines saturate at 1/k of the rate while the host's own per-request cost (client, nginx, gateway) stays what it
 * is. Rates and `--seconds` are not scaled: choose them for the slower fleet.
 *
 * About 7 minutes by default; --quick (8 s measured per run, 2 warm-up requests per group) about 3. Described,
 * with figures, in docs/benchmarks.md.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from '../lib/bench-args.js';
import { baseModelRouteYaml, podYaml, poolYaml } from '../../src/config/manifests.js';
import type { Workload } from '../../src/bench/workload.js';
import { sharedPrefixWorkload } from '../../src/bench/shared-prefix-workload.js';
import { runBench } from '../../src/bench/run-bench.js';
import { toMarkdownTable } from '../../src/bench/report-markdown.js';
import { writeReport } from '../../src/bench/report-files.js';
import { CLI, startNode, stopAll, waitForUrl } from './lib/processes.js';
import { startNginxBalancer } from './lib/nginx-balancer.js';
import { hitRate, readPrefixCounters } from './lib/sim-prefix-stats.js';
import { measureFootprint, type Footprint } from './lib/kv-footprint.js';
import { replicaCharts, sweepCharts } from './lib/precise-prefix-charts.js';
import { preciseTable, preciseTargets, type PreciseRun } from './lib/precise-prefix-verdict.js';
import { closedLoopTable, pressureTargets, sustainedAt, sweepMediansTable, sweepTable, type PressureRun } from './lib/precise-pressure-verdict.js';
import { sampleQueues } from './lib/queue-sampler.js';
import { scaledEppConfig } from './lib/scaled-epp-config.js';
import { prefixHoldersSection } from './lib/prefix-holders.js';
import { saveKeptDecisions } from './lib/kept-decisions.js';
import { DEFAULT_MIN_SERVED_RATIO, SendClock, sustains } from './lib/sustain.js';
import type { Load } from '../../src/bench/run-bench.js';
import { DEFAULT_GATEWAY_OPTIONS } from '../../src/proxy/gateway.js';
import { MAX_CHARS_PER_TOKEN } from '../../src/sim/tokenizer.js';
import { CHARS_PER_TOKEN as SIM_CHARS_PER_TOKEN } from '../../src/sim/token-estimate.js';

const { values } = benchArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rate: { type: 'string', default: '12' },
    seconds: { type: 'string' },
    'warmup-per-group': { type: 'string' },
    pods: { type: 'string', default: '5' },
    groups: { type: 'string', default: '20' },
    'system-prompt-tokens': { type: 'string', default: '3000' },
    users: { type: 'string', default: '5' },
    'question-tokens': { type: 'string', default: '50' },
    'max-tokens': { type: 'string', default: '32' },
    'kv-demand': { type: 'string', default: '0.72' },
    replicas: { type: 'string', default: '1,2,3' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
    mode: { type: 'string', default: 'table' },
    'sweep-rates': { type: 'string', default: '12,18,24,30,36,42' },
    concurrency: { type: 'string' },
    'min-served-ratio': { type: 'string', default: String(DEFAULT_MIN_SERVED_RATIO) },
    'loopback-octet': { type: 'string', default: '107' },
    'prefill-time-per-token': { type: 'string', default: '0.1' },
    itl: { type: 'string', default: '10' },
    'time-scale': { type: 'string', default: '1' },
    repeat: { type: 'string', default: '1' },
    'approximate-config': { type: 'string' },
    'chars-per-token': { type: 'string', default: String(SIM_CHARS_PER_TOKEN) },
    'decisions-out': { type: 'string' },
    'group-zipf': { type: 'string', default: '0' },
  },
});
const MODES = ['table', 'sweep', 'closed-loop', 'pressure'] as const;
const MODE = MODES.find((m) => m === values.mode);
if (MODE === undefined) throw new Error(`--mode must be one of ${MODES.join(', ')}, got "${values.mode}"`);
const SWEEP_RATES = values['sweep-rates']!.split(',').map(Number).sort((a, b) => a - b);
const MIN_SERVED_RATIO = Number(values['min-served-ratio']);
const OCTET = Number(values['loopback-octet']);
const QUICK = values.quick === true;
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds ?? (QUICK ? 8 : 30));
const WARMUP_PER_GROUP = Number(values['warmup-per-group'] ?? (QUICK ? 2 : 5));
const PODS = Number(values.pods);
const GROUPS = Number(values.groups);
const KV_DEMAND = Number(values['kv-demand']);
const REPLICAS = values.replicas!.split(',').map(Number);
const SEED = Number(values.seed);
const TIME_SCALE = Number(values['time-scale']);
if (!(TIME_SCALE > 0)) throw new Error(`--time-scale must be a positive number, got "${values['time-scale']}"`);
const GROUP_ZIPF = Number(values['group-zipf']);
if (!(GROUP_ZIPF >= 0)) throw new Error(`--group-zipf must be a number from 0, got "${values['group-zipf']}"`);
const CHARS_PER_TOKEN = Number(values['chars-per-token']);
if (!Number.isInteger(CHARS_PER_TOKEN) || CHARS_PER_TOKEN < 1 || CHARS_PER_TOKEN > MAX_CHARS_PER_TOKEN) {
  throw new Error(`--chars-per-token must be a whole number from 1 to ${MAX_CHARS_PER_TOKEN}, got "${values['chars-per-token']}"`);
}
const REPEAT = Number(values.repeat);
if (!Number.isInteger(REPEAT) || REPEAT < 1) throw new Error(`--repeat must be a whole number from 1, got "${values.repeat}"`);
// The engine's costs, after --time-scale.
const PREFILL_MS_PER_TOKEN = Number(values['prefill-time-per-token']) * TIME_SCALE;
const ITL_MS = Number(values.itl) * TIME_SCALE;
// Closed loop: 40 users by default, 8 per pod of the default five: enough to keep the pods' batches busy while
// this 2-CPU host (which also runs the gateway, nginx and the client) is not yet what limits the rate.
const CONCURRENCY = Number(values.concurrency ?? 40);
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const BLOCK_SIZE = 16;
const PORT = 18900;
const GATEWAY_PORT = 18901;
/** With `--decisions-out`: every replica's admin listener, on its own loopback address. */
const ADMIN_PORT = 18902;
const DECISIONS_OUT = values['decisions-out'];
/** Enough for a run's warm-up and measured requests at any rate this scenario is run at. */
const KEPT_DECISIONS = 100_000;
const KV_PORT = 5557;
const REPLAY_PORT = 5559;
// Startup waits: on a shared 2-CPU machine five simulators and a gateway can take well over 15 s to answer.
const READY_MS = 90_000;
// Loopback octets of this scenario: pods on 127.0.107.x, the balancer and gateway replicas on 127.0.108.x
// (--loopback-octet N: 127.0.N.x and 127.0.N+1.x).
const FRONT = `127.0.${OCTET + 1}`;
const BALANCER = `${FRONT}.1:${PORT}`;
const pods = Array.from({ length: PODS }, (_, i) => ({ name: `llama-${i}`, ip: `127.0.${OCTET}.${i + 2}` }));
const BACKENDS = pods.map((p) => `${p.ip}:${PORT}`);
const ORIGINS = BACKENDS.map((b) => `http://${b}`);
const EPP_CONFIGS = new URL('../../../bench/scenarios/epp-configs/', import.meta.url);

type Picker = 'round-robin' | 'load-only' | 'approximate' | 'precise';
const EPP_CONFIG: Record<Exclude<Picker, 'round-robin'>, string | undefined> = {
  'load-only': 'load-only.yaml',
  // No --epp-config: llm-d's default profile, whose prefix-cache-scorer is approximate.
  approximate: undefined,
  precise: 'precise-prefix.yaml',
};
/** `--approximate-config`: a file of the user's, used as given (its time constants are not scaled). */
const APPROXIMATE_CONFIG = values['approximate-config'];

/**
 * Simulated engine costs per pod, by default the scheduling scenario's: 10^4 prefill tokens/s (0.1 ms per
 * uncached token, 2,048 tokens a step), a 10 ms decode step growing to 20 ms at a full batch of 32
 * (`--prefill-time-per-token`, `--itl`), both times `--time-scale`. The KV cache is sized at run time from the
 * workload's measured token footprint (see kv-footprint.ts).
 */
function simArgs(kvBlocks: number, ip: string): string[] {
  return [
    '--max-num-seqs', '32', '--max-num-batched-tokens', '2048', '--prefill-time-per-token', String(PREFILL_MS_PER_TOKEN), '--itl', String(ITL_MS),
    '--time-factor-under-load', '2', '--ttft', '0', '--kv-cache-size', String(kvBlocks), '--block-size', String(BLOCK_SIZE), '--seed', values.seed!,
    '--chars-per-token', String(CHARS_PER_TOKEN),
    '--kv-events-config',
    JSON.stringify({ enable_kv_cache_events: true, publisher: 'zmq', endpoint: `tcp://*:${KV_PORT}`, replay_endpoint: `tcp://*:${REPLAY_PORT}`, topic: `kv@${ip}:${PORT}@${MODEL}` }),
  ];
}

function workload(): Workload {
  return sharedPrefixWorkload({
    models: [MODEL],
    groups: GROUPS,
    systemPromptTokens: Number(values['system-prompt-tokens']),
    users: Number(values.users),
    questionTokens: Number(values['question-tokens']),
    maxTokens: Number(values['max-tokens']),
    seed: SEED,
    charsPerToken: CHARS_PER_TOKEN,
    groupZipf: GROUP_ZIPF,
  });
}

/** Fresh pods and a fresh front for every run: cold caches, empty queues, empty indexes. */
async function startRun(picker: Picker, replicas: number, kvBlocks: number, fleetDir: string): Promise<void> {
  await stopAll();
  for (const p of pods) startNode(CLI, ['sim', '--model', MODEL, '--host', p.ip, '--port', String(PORT), '--pod-name', p.name, ...simArgs(kvBlocks, p.ip)]);
  await Promise.all(ORIGINS.map((o) => waitForUrl(`${o}/health`, READY_MS)));
  if (picker === 'round-robin') {
    startNginxBalancer({ listen: BALANCER, upstreams: BACKENDS, markServedEndpoint: true });
    await waitForUrl(`http://${BALANCER}/health`, READY_MS);
    return;
  }
  const config = eppConfigArgs(picker, fleetDir);
  const scaled = TIME_SCALE === 1 ? [] : ['--refresh-metrics-interval', String(Math.round(DEFAULT_GATEWAY_OPTIONS.refreshMetricsIntervalMs * TIME_SCALE))];
  const gateways = Array.from({ length: replicas }, (_, i) => `${FRONT}.${i + 2}:${GATEWAY_PORT}`);
  for (const g of gateways) {
    const [host, port] = g.split(':') as [string, string];
    const admin = DECISIONS_OUT === undefined ? ['--admin-port', '0'] : ['--admin-port', String(ADMIN_PORT), '--debug-decisions', String(KEPT_DECISIONS)];
    startNode(CLI, ['serve', '-f', fleetDir, '--host', host, '--port', port, ...admin, '--log-level', 'warn', ...scaled, ...config]);
  }
  await Promise.all(gateways.map((g) => waitForUrl(`http://${g}/readyz`, READY_MS)));
  startNginxBalancer({ listen: BALANCER, upstreams: gateways });
  await waitForUrl(`http://${BALANCER}/readyz`, READY_MS);
}

/** `--epp-config` for a gateway of `picker`: the user's `--approximate-config`, else the scenario's file, else none (llm-d's default). */
function eppConfigArgs(picker: Exclude<Picker, 'round-robin'>, fleetDir: string): string[] {
  if (picker === 'approximate' && APPROXIMATE_CONFIG !== undefined) return ['--epp-config', APPROXIMATE_CONFIG];
  const file = EPP_CONFIG[picker];
  return file === undefined ? [] : ['--epp-config', eppConfigPath(file, fleetDir)];
}

/** With `--time-scale`, the copy main() wrote beside the fleet's directory; otherwise the file itself. */
function eppConfigPath(file: string, fleetDir: string): string {
  return TIME_SCALE === 1 ? fileURLToPath(new URL(file, EPP_CONFIGS)) : join(fleetDir, '..', file);
}

/**
 * One run on fresh pods and a fresh front: a warm-up at the run's rate (open loop at `RATE` before a closed
 * loop), then `SECONDS` measured, with the pods' queues sampled and, in open loop, the sends clocked.
 */
async function runOne(picker: Picker, replicas: number, footprint: Footprint, fleetDir: string, load: Load = { kind: 'open', rate: RATE }): Promise<PressureRun> {
  const front = picker === 'round-robin' ? 'round-robin (nginx -> pods)' : `${picker}, ${replicas} gateway${replicas > 1 ? 's' : ''}`;
  const label = MODE === 'table' ? front : `${front}, ${load.kind === 'open' ? `${load.rate} req/s` : `${load.concurrency} users`}`;
  process.stderr.write(`${label}...\n`);
  await startRun(picker, replicas, footprint.kvBlocksPerPod, fleetDir);
  const url = `http://${BALANCER}`;
  const warmup = WARMUP_PER_GROUP * GROUPS;
  const warmupRate = load.kind === 'open' ? load.rate : RATE;
  // Not measured: fills the caches and the indexes as steady traffic would. Bounded by the count.
  await runBench({ url, workload: workload(), load: { kind: 'open', rate: warmupRate }, maxRequests: warmup, durationS: (2 * warmup) / warmupRate, graceS: 60, seed: SEED + 1000, verifyRouting: false });
  const before = await readPrefixCounters(ORIGINS);
  const queues = sampleQueues(ORIGINS);
  const clock = new SendClock();
  // Closed loop: bounded by time; the count only caps a runaway (every user answered in under a millisecond).
  const maxRequests = load.kind === 'open' ? Math.ceil(load.rate * SECONDS) : load.concurrency * 1000;
  const result = await runBench({ url, label, workload: clock.wrap(workload()), load, maxRequests, durationS: SECONDS, graceS: 60, seed: SEED, verifyRouting: false });
  const run: PressureRun = { picker, replicas, label, result, prefixHitRate: hitRate(before, await readPrefixCounters(ORIGINS)), queues: await queues.stop() };
  if (DECISIONS_OUT !== undefined && picker !== 'round-robin') {
    const admins = Array.from({ length: replicas }, (_, i) => `http://${FRONT}.${i + 2}:${ADMIN_PORT}`);
    const holders = await saveKeptDecisions(DECISIONS_OUT, label, admins, warmup);
    // Load-only has no prefix scorer: its decisions are saved, with nothing to count.
    if (picker !== 'load-only') run.holders = holders;
  }
  if (load.kind === 'open') {
    run.rate = load.rate;
    run.timing = { sent: result.requests, successes: result.successes, windowS: clock.windowS, durationS: result.durationS, decodeS: Math.max(0, (result.e2e.p50 - result.ttft.p50) / 1000) };
    run.sustained = sustains(run.timing, MIN_SERVED_RATIO);
  } else run.concurrency = load.concurrency;
  const waiting = run.queues.meanWaiting.reduce((s, v) => s + (Number.isFinite(v) ? v : 0), 0);
  process.stderr.write(
    `  ${result.successes}/${result.requests} ok, TTFT p50/p90 ${result.ttft.p50.toFixed(0)}/${result.ttft.p90.toFixed(0)} ms, ${result.rps.toFixed(1)} req/s, ${result.outputTokensPerS.toFixed(0)} output tok/s, ` +
      `hits ${(100 * run.prefixHitRate).toFixed(1)}%, mean waiting ${waiting.toFixed(1)}${run.sustained === undefined ? '' : `, sustained ${run.sustained ? 'yes' : 'no'}`}` +
      `${run.holders ? `, prefix on 1 / 2+ / 0 pods ${run.holders.oneHolder} / ${run.holders.severalHolders} / ${run.holders.noHolder}, picked away ${run.holders.awayFromHolder}` : ''}\n`,
  );
  return run;
}

/**
 * Both pickers at one load, `--repeat` times on fresh pods: approximate first in odd repetitions, precise first in
 * even ones, so neither always runs on a host warmed (or loaded) by the other.
 */
async function pairs(footprint: Footprint, fleetDir: string, load: Load): Promise<PressureRun[]> {
  const runs: PressureRun[] = [];
  for (let rep = 1; rep <= REPEAT; rep++) {
    const order = rep % 2 === 1 ? (['approximate', 'precise'] as const) : (['precise', 'approximate'] as const);
    for (const picker of order) {
      const run = await runOne(picker, 1, footprint, fleetDir, load);
      if (REPEAT > 1) run.repeat = rep;
      runs.push(run);
    }
  }
  return runs;
}

/**
 * The open-loop sweep: at each rate, ascending, both pickers on fresh pods; stops after the first rate
 * approximate does not sustain in most of its runs (that rate's precise runs are kept: they show what precise
 * does past approximate's limit).
 */
async function sweep(footprint: Footprint, fleetDir: string): Promise<PressureRun[]> {
  const runs: PressureRun[] = [];
  for (const rate of SWEEP_RATES) {
    const here = await pairs(footprint, fleetDir, { kind: 'open', rate });
    runs.push(...here);
    if (!sustainedAt(here.filter((r) => r.picker === 'approximate'))) break;
  }
  return runs;
}

async function closedLoop(footprint: Footprint, fleetDir: string): Promise<PressureRun[]> {
  return pairs(footprint, fleetDir, { kind: 'closed', concurrency: CONCURRENCY });
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const footprint = await measureFootprint({
    cli: CLI, model: MODEL, host: `127.0.${OCTET}.250`, port: PORT, blockSize: BLOCK_SIZE, workload: workload(), groups: GROUPS, users: Number(values.users), pods: PODS, demand: KV_DEMAND, charsPerToken: CHARS_PER_TOKEN,
  });
  process.stderr.write(`KV footprint ${footprint.blocks} blocks; ${footprint.kvBlocksPerPod} blocks per pod (${PODS} pods): demand ${(100 * footprint.demand).toFixed(1)}% of the fleet's cache\n`);
  const dir = await mkdtemp(join(tmpdir(), 'infergate-precise-'));
  // `serve -f` reads every YAML file of the fleet's directory, so the scaled EPP configs sit beside it, not in it.
  const fleetDir = join(dir, 'fleet');
  await mkdir(fleetDir);
  if (TIME_SCALE !== 1) {
    for (const file of new Set(Object.values(EPP_CONFIG))) if (file !== undefined) await writeFile(join(dir, file), await scaledEppConfig(new URL(file, EPP_CONFIGS), TIME_SCALE));
  }
  await writeFile(join(fleetDir, 'fleet.yaml'), [...pods.map((p) => podYaml(p.name, p.ip, { app: 'llama' })), poolYaml('llama', { app: 'llama' }, PORT), baseModelRouteYaml('llama', MODEL, [['llama', 1]])].join('---\n'));
  const runs: PreciseRun[] = [];
  const swept: PressureRun[] = [];
  const closed: PressureRun[] = [];
  try {
    if (MODE === 'table') {
      runs.push(await runOne('round-robin', 0, footprint, fleetDir));
      runs.push(await runOne('load-only', 1, footprint, fleetDir));
      for (const n of REPLICAS) {
        runs.push(await runOne('approximate', n, footprint, fleetDir));
        runs.push(await runOne('precise', n, footprint, fleetDir));
      }
    }
    if (MODE === 'sweep' || MODE === 'pressure') swept.push(...(await sweep(footprint, fleetDir)));
    if (MODE === 'closed-loop' || MODE === 'pressure') closed.push(...(await closedLoop(footprint, fleetDir)));
  } finally {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  }
  if (MODE !== 'table') {
    report(footprint, swept, closed, t0);
    return;
  }
  const summary = [
    `Shared prefix: ${GROUPS} groups x ${values['system-prompt-tokens']}-token system prompt x ${values.users} users, ${values['question-tokens']}-token questions, ${values['max-tokens']} output tokens, ${RATE} req/s (Poisson); ` +
      `${PODS} simulated pods with KV events, KV cache ${footprint.kvBlocksPerPod} blocks x ${BLOCK_SIZE} tokens each${CHARS_PER_TOKEN === 4 ? '' : `, ${CHARS_PER_TOKEN} characters a token (--chars-per-token: approximate scoring assumes 4)`}; the prompts' footprint is ${footprint.blocks} blocks = ${(100 * footprint.demand).toFixed(1)}% of the fleet's ${footprint.kvBlocksPerPod * PODS}. ` +
      `Warm-up ${WARMUP_PER_GROUP * GROUPS} requests, then ${SECONDS} s measured, per run; fresh pods and gateways for every run.`,
    '',
    preciseTable(runs, BACKENDS),
    '',
    ...prefixHoldersSection(runs, DECISIONS_OUT),
    'Targets (issue #14):',
    '',
    ...preciseTargets(runs).map((v) => `- ${v}`),
    '',
    `Wall time: ${((Date.now() - t0) / 60_000).toFixed(1)} min.`,
  ].join('\n');
  console.log(`\n${toMarkdownTable(runs.map((r) => r.result))}\n\n${summary}`);
  if (values.out) {
    writeReport(values.out, 'precise-prefix', runs.map((r) => r.result), replicaCharts(runs));
    writeFileSync(join(values.out, 'precise-prefix-summary.md'), `# precise-prefix: summary\n\n${summary}\n`);
  }
}

function shape(footprint: Footprint): string {
  return (
    `Shared prefix: ${GROUPS} groups${GROUP_ZIPF === 0 ? '' : ` (popularity Zipf ${GROUP_ZIPF})`} x ${values['system-prompt-tokens']}-token system prompt x ${values.users} users, ${values['question-tokens']}-token questions, ${values['max-tokens']} output tokens; ` +
    `${PODS} simulated pods with KV events, prefill ${PREFILL_MS_PER_TOKEN} ms per uncached token, decode step ${ITL_MS} ms (x2 at a full batch)${TIME_SCALE === 1 ? '' : ` (time scale ${TIME_SCALE}: engine costs, the gateway's metrics scrape interval, speculativeTTL and silenceTimeout all x${TIME_SCALE})`}, KV cache ${footprint.kvBlocksPerPod} blocks x ${BLOCK_SIZE} tokens each${CHARS_PER_TOKEN === 4 ? '' : `, ${CHARS_PER_TOKEN} characters a token (--chars-per-token: approximate scoring assumes 4)`}; the prompts' footprint is ${footprint.blocks} blocks = ${(100 * footprint.demand).toFixed(1)}% of the fleet's ${footprint.kvBlocksPerPod * PODS}. ` +
    `${APPROXIMATE_CONFIG === undefined ? '' : `Approximate runs with --epp-config ${APPROXIMATE_CONFIG}. `}One gateway replica. Warm-up ${WARMUP_PER_GROUP * GROUPS} requests, then ${SECONDS} s measured, per run; fresh pods and gateway for every run` +
    `${REPEAT > 1 ? `; every point run ${REPEAT} times, the pickers' order swapped each time` : ''}.`
  );
}

/** The pressure modes' output: the sweep's and the closed loop's tables, and the one-replica target. */
function report(footprint: Footprint, swept: readonly PressureRun[], closed: readonly PressureRun[], t0: number): void {
  const results = [...swept, ...closed].map((r) => r.result);
  const parts = [shape(footprint), ''];
  if (swept.length > 0) {
    parts.push(`Open-loop sweep (Poisson), sustained = every request answered and served / offered >= ${MIN_SERVED_RATIO}:`, '', sweepTable(swept, BACKENDS), '');
    if (REPEAT > 1) parts.push(`Each point ${REPEAT} times, per rate and picker:`, '', sweepMediansTable(swept), '');
  }
  if (closed.length > 0) parts.push(`Closed loop: ${CONCURRENCY} users, each sending its next request when its last one finished:`, '', closedLoopTable(closed, BACKENDS), '');
  parts.push(...prefixHoldersSection([...swept, ...closed], DECISIONS_OUT));
  parts.push('Target (issue #14, one replica under KV pressure):', '', ...pressureTargets(swept, closed).map((v) => `- ${v}`), '', `Wall time: ${((Date.now() - t0) / 60_000).toFixed(1)} min.`);
  const summary = parts.join('\n');
  console.log(`\n${toMarkdownTable(results)}\n\n${summary}`);
  if (values.out) {
    writeReport(values.out, `precise-prefix-${MODE}`, results, swept.length >= 2 ? sweepCharts(swept) : []);
    writeFileSync(join(values.out, `precise-prefix-${MODE}-summary.md`), `# precise-prefix --mode ${MODE}: summary\n\n${summary}\n`);
  }
}

await main();
