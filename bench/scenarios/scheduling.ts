/**
 * Scenario `scheduling`: shared-prefix traffic (llm-d's benchmark shape, scaled to this machine) at several
 * request rates over simulated replicas with realistic costs (step-based engine, prefill per token, KV cache
 * with prefix caching), picked by a model-blind Service (round-robin, random) and by infergate with four
 * EndpointPickerConfigs: llm-d's default profile, prefix-only, load-only and random. Then a uniform workload
 * (nothing shared) at one moderate rate, to see how evenly each policy spreads load.
 *
 *   npm run build && node dist/bench/scenarios/scheduling.js [--rates 4,8,12,20] [--seconds 15]
 *     [--policies rr,service-random,default,prefix-only,load-only,random] [--uniform-rate 8] [--out bench/results]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from '../lib/bench-args.js';
import { baseModelRouteYaml, podYaml, poolYaml } from '../../src/config/manifests.js';
import type { Workload } from '../../src/bench/workload.js';
import { randomWorkload } from '../../src/bench/random-workload.js';
import { sharedPrefixWorkload } from '../../src/bench/shared-prefix-workload.js';
import { runBench } from '../../src/bench/run-bench.js';
import { toMarkdownTable } from '../../src/bench/report-markdown.js';
import { schedulingCharts } from './lib/scheduling-charts.js';
import { writeReport } from '../../src/bench/report-files.js';
import { CLI, startNode, stopAll, waitForUrl } from './lib/processes.js';
import { selectPolicies, startPolicy, type PolicySpec } from './lib/scheduling-policies.js';
import { hitRate, readPrefixCounters } from './lib/sim-prefix-stats.js';
import { balanceTable, maxOverFair, summaryTable, targets, type Run } from './lib/scheduling-verdict.js';

const { values } = benchArgs({
  options: {
    rates: { type: 'string', default: '4,8,12,20' },
    replicas: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    'warmup-per-group': { type: 'string', default: '4' },
    groups: { type: 'string', default: '16' },
    'system-prompt-tokens': { type: 'string', default: '4000' },
    users: { type: 'string', default: '5' },
    'question-tokens': { type: 'string', default: '50' },
    'max-tokens': { type: 'string', default: '32' },
    'kv-cache-size': { type: 'string', default: '1536' },
    'max-num-seqs': { type: 'string', default: '32' },
    policies: { type: 'string' },
    'uniform-rate': { type: 'string', default: '8' },
    'uniform-seconds': { type: 'string', default: '15' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});
const RATES = values.rates!.split(',').map(Number);
const REPLICAS = Number(values.replicas);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const UNIFORM_RATE = Number(values['uniform-rate']);
const SEED = Number(values.seed);
const POLICIES = selectPolicies(values.policies);
const PORT = 18700;
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';

/**
 * Simulated engine costs, per replica (documented in docs/benchmarks.md): 10^4 prefill tokens/s (0.1 ms per
 * uncached token, 2,048 tokens per step, so a long miss is chunked and stalls the decodes sharing its steps),
 * a 10 ms decode step growing to 20 ms at a full batch of 32, and a KV cache of 1,536 blocks x 16 tokens:
 * six of the sixteen groups' 4,000-token system prompts. A Service spreads all sixteen over every replica,
 * so most prompts miss; affinity needs only four per replica, so after the first request of a group they hit.
 */
const SIM_ARGS = [
  '--max-num-seqs', values['max-num-seqs']!, '--max-num-batched-tokens', '2048', '--prefill-time-per-token', '0.1', '--itl', '10',
  '--time-factor-under-load', '2', '--ttft', '0', '--kv-cache-size', values['kv-cache-size']!, '--block-size', '16', '--seed', values.seed!,
];

const replicas = Array.from({ length: REPLICAS }, (_, i) => ({ name: `llama-${i}`, ip: `127.0.43.${i + 2}` }));
const BACKENDS = replicas.map((r) => `${r.ip}:${PORT}`);
const ORIGINS = BACKENDS.map((b) => `http://${b}`);

function sharedPrefix(): Workload {
  return sharedPrefixWorkload({
    models: [MODEL],
    groups: Number(values.groups),
    systemPromptTokens: Number(values['system-prompt-tokens']),
    users: Number(values.users),
    questionTokens: Number(values['question-tokens']),
    maxTokens: Number(values['max-tokens']),
    seed: SEED,
  });
}

/** Nothing shared: every prompt is new text, ~1,000 tokens, ~32 output tokens. */
function uniform(): Workload {
  return randomWorkload({ models: [MODEL], promptTokens: { mean: 1000, sd: 250, min: 300, max: 2000 }, outputTokens: { mean: 32, sd: 8, min: 8, max: 64 } });
}

/** Fresh simulators and a fresh proxy for every run: cold caches, empty queues, an empty prefix index. */
async function restartFleet(policy: PolicySpec, fleetDir: string): Promise<void> {
  await stopAll();
  for (const r of replicas) startNode(CLI, ['sim', '--model', MODEL, '--host', r.ip, '--port', String(PORT), '--pod-name', r.name, ...SIM_ARGS]);
  await Promise.all(ORIGINS.map((o) => waitForUrl(`${o}/health`)));
  await startPolicy(policy, fleetDir, BACKENDS);
}

/**
 * The warm-up fills caches and the prefix index as steady traffic would, and is not measured: at least --warmup
 * seconds and --warmup-per-group requests per group at the run's rate, so that at low rates every group has
 * been seen (4 per group leaves about 0.3 of 16 groups unseen) and the measured part is steady state.
 */
function warmupRequests(rate: number): number {
  return Math.max(Math.ceil(rate * WARMUP), Number(values['warmup-per-group']) * Number(values.groups));
}

async function runOne(policy: PolicySpec, fleetDir: string, workload: () => Workload, rate: number, seconds: number, warmup: number): Promise<Run> {
  await restartFleet(policy, fleetDir);
  const url = `http://127.0.0.1:${policy.port}`;
  if (warmup > 0) {
    process.stderr.write(`  warm-up ${warmup} requests...\n`);
    // Bounded by the count: the duration is only a backstop for a slow Poisson draw.
    await runBench({ url, workload: workload(), load: { kind: 'open', rate }, maxRequests: warmup, durationS: (2 * warmup) / rate, graceS: 60, seed: SEED + 1000, verifyRouting: false });
  }
  const before = await readPrefixCounters(ORIGINS);
  const result = await runBench({
    url,
    label: `${policy.name} @ ${rate} req/s`,
    workload: workload(),
    load: { kind: 'open', rate },
    maxRequests: Math.ceil(rate * seconds),
    durationS: seconds,
    graceS: 60,
    seed: SEED,
  });
  const run: Run = { policy: policy.name, rate, result, prefixHitRate: hitRate(before, await readPrefixCounters(ORIGINS)) };
  const hit = Number.isFinite(run.prefixHitRate) ? (100 * run.prefixHitRate).toFixed(0) : '-';
  process.stderr.write(`  ${result.successes}/${result.requests} ok, ${result.rps.toFixed(1)} req/s, TTFT p90 ${result.ttft.p90.toFixed(0)} ms, prefix hits ${hit}%, max/fair ${maxOverFair(result, REPLICAS).toFixed(2)}\n`);
  return run;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'infergate-sched-'));
  await writeFile(join(dir, 'fleet.yaml'), [...replicas.map((r) => podYaml(r.name, r.ip, { app: 'llama' })), poolYaml('llama', { app: 'llama' }, PORT), baseModelRouteYaml('llama', MODEL, [['llama', 1]])].join('---\n'));
  const shared: Run[] = [];
  const even: Run[] = [];
  try {
    for (const rate of RATES) {
      for (const policy of POLICIES) {
        process.stderr.write(`shared prefix, ${rate} req/s, ${policy.name}...\n`);
        shared.push(await runOne(policy, dir, sharedPrefix, rate, SECONDS, WARMUP > 0 ? warmupRequests(rate) : 0));
      }
    }
    if (UNIFORM_RATE > 0) {
      for (const policy of POLICIES) {
        process.stderr.write(`uniform, ${UNIFORM_RATE} req/s, ${policy.name}...\n`);
        even.push(await runOne(policy, dir, uniform, UNIFORM_RATE, Number(values['uniform-seconds']), 0));
      }
    }
  } finally {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  }
  const all = shared.map((x) => x.result);
  const verdict = targets(shared, even, REPLICAS, SECONDS);
  const summary = [
    `Shared prefix: ${values.groups} groups x ${values['system-prompt-tokens']}-token system prompt x ${values.users} users, ${values['question-tokens']}-token questions, ${values['max-tokens']} output tokens; ${REPLICAS} replicas, KV cache ${values['kv-cache-size']} blocks x 16 tokens; warm-up of max(${WARMUP} s, ${values['warmup-per-group']} requests per group), then ${SECONDS} s measured, per run.`,
    '',
    summaryTable(shared, BACKENDS, SECONDS),
    '',
    ...(even.length > 0 ? [`Uniform workload (no shared prefix), ${UNIFORM_RATE} req/s for ${values['uniform-seconds']} s:`, '', balanceTable(even, BACKENDS), ''] : []),
    'Targets:',
    '',
    ...verdict.map((v) => `- ${v}`),
    '',
    `Wall time: ${((Date.now() - t0) / 60_000).toFixed(1)} min.`,
  ].join('\n');
  console.log(`\n${toMarkdownTable(all)}\n\n${summary}`);
  if (values.out) {
    writeReport(values.out, 'scheduling', all, schedulingCharts(POLICIES, shared, even, REPLICAS));
    writeFileSync(join(values.out, 'scheduling-summary.md'), `# scheduling: summary\n\n${summary}\n`);
    writeFileSync(join(values.out, 'scheduling-uniform.json'), `${JSON.stringify(even.map((x) => ({ ...x.result, maxOverFair: maxOverFair(x.result, REPLICAS) })), null, 2)}\n`);
    writeFileSync(join(values.out, 'scheduling-prefix-hits.json'), `${JSON.stringify(shared.map((x) => ({ policy: x.policy, rate: x.rate, prefixHitRate: x.prefixHitRate })), null, 2)}\n`);
  }
}

await main();
