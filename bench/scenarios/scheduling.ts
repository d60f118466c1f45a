/**
 * Scenario `scheduling`: shared-prefix traffic (llm-d's benchmark shape, scaled to this machine) at several
 * request rates over simulated replicas with realistic costs (step-based engine, prefill per token, KV cache
 * with prefix caching), picked by: a model-blind Service round-robin, a Service at random, and infergate.
 * infergate's picker today is least in-flight among the endpoints that serve the model; the scheduler issue
 * adds prefix- and load-aware profiles here.
 *
 *   npm run build && node dist/bench/scenarios/scheduling.js [--rates 4,8,12,16] [--replicas 4] [--seconds 20] [--out bench/results]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { baseModelRouteYaml, podYaml, poolYaml } from '../../src/config/manifests.js';
import { sharedPrefixWorkload } from '../../src/bench/shared-prefix-workload.js';
import { runBench, type RunResult } from '../../src/bench/run-bench.js';
import { toMarkdownTable } from '../../src/bench/report-markdown.js';
import { toSvgLineChart } from '../../src/bench/report-svg.js';
import { writeReport } from '../../src/bench/report-files.js';
import { CLI, SERVICE_PROXY, startNode, stopAll, waitForUrl } from './lib/processes.js';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '4,8,12,16' },
    replicas: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '20' },
    groups: { type: 'string', default: '8' },
    'system-prompt-tokens': { type: 'string', default: '2000' },
    users: { type: 'string', default: '5' },
    'kv-cache-size': { type: 'string', default: '512' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
  },
});
const RATES = values.rates!.split(',').map(Number);
const REPLICAS = Number(values.replicas);
const SECONDS = Number(values.seconds);
const PORT = 18700;
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';

/**
 * Simulated engine costs, per replica (documented in docs/benchmarks.md): about 10^4 prefill tokens/s, a
 * ~10 ms decode step growing with the batch, 512 blocks x 16 tokens of KV cache: enough for a few of the
 * groups' system prompts, not all of them, as on real hardware where the cache is the scarce resource.
 */
const SIM_ARGS = ['--max-num-seqs', '32', '--prefill-time-per-token', '0.1', '--itl', '10', '--time-factor-under-load', '2', '--ttft', '0', '--kv-cache-size', values['kv-cache-size']!, '--block-size', '16', '--seed', values.seed!];

const POLICIES: [string, number][] = [
  ['Service round-robin', 18702],
  ['Service random', 18703],
  ['infergate (least in-flight)', 18701],
];

async function main(): Promise<void> {
  const replicas = Array.from({ length: REPLICAS }, (_, i) => ({ name: `llama-${i}`, ip: `127.0.43.${i + 2}` }));
  const dir = await mkdtemp(join(tmpdir(), 'infergate-sched-'));
  await writeFile(join(dir, 'fleet.yaml'), [...replicas.map((r) => podYaml(r.name, r.ip, { app: 'llama' })), poolYaml('llama', { app: 'llama' }, PORT), baseModelRouteYaml('llama', MODEL, [['llama', 1]])].join('---\n'));
  const results = new Map<string, RunResult[]>(POLICIES.map(([p]) => [p, []]));
  try {
    const restartFleet = async (): Promise<void> => {
      await stopAll();
      for (const r of replicas) startNode(CLI, ['sim', '--model', MODEL, '--host', r.ip, '--port', String(PORT), '--pod-name', r.name, ...SIM_ARGS]);
      await Promise.all(replicas.map((r) => waitForUrl(`http://${r.ip}:${PORT}/health`)));
      startNode(CLI, ['serve', '-f', dir, '--port', '18701', '--log-level', 'warn']);
      startNode(SERVICE_PROXY, ['--port', '18702', '--policy', 'round-robin', ...replicas.flatMap((r) => ['--backend', `${r.ip}:${PORT}`])]);
      startNode(SERVICE_PROXY, ['--port', '18703', '--policy', 'random', ...replicas.flatMap((r) => ['--backend', `${r.ip}:${PORT}`])]);
      await Promise.all([waitForUrl('http://127.0.0.1:18701/readyz'), waitForUrl('http://127.0.0.1:18702/health'), waitForUrl('http://127.0.0.1:18703/health')]);
    };
    for (const rate of RATES) {
      for (const [policy, port] of POLICIES) {
        // Fresh simulators for every run: each policy starts with cold caches and empty queues.
        await restartFleet();
        process.stderr.write(`rate ${rate} req/s, ${policy}...\n`);
        const r = await runBench({
          url: `http://127.0.0.1:${port}`,
          label: `${policy} @ ${rate} req/s`,
          workload: sharedPrefixWorkload({ models: [MODEL], groups: Number(values.groups), systemPromptTokens: Number(values['system-prompt-tokens']), users: Number(values.users), questionTokens: 50, maxTokens: 32, seed: Number(values.seed) }),
          load: { kind: 'open', rate },
          maxRequests: Math.ceil(rate * SECONDS),
          durationS: SECONDS,
          graceS: 60,
          seed: Number(values.seed),
        });
        results.get(policy)!.push(r);
      }
    }
    const all = [...results.values()].flat();
    console.log(`\n${toMarkdownTable(all)}`);
    const series = (f: (r: RunResult) => number): { name: string; points: [number, number][] }[] =>
      POLICIES.map(([p]) => ({ name: p, points: results.get(p)!.map((r, i) => [RATES[i]!, f(r)] as [number, number]) }));
    if (values.out) {
      writeReport(values.out, 'scheduling', all, [
        { file: 'scheduling-ttft-p90.svg', svg: toSvgLineChart({ title: 'TTFT p90 vs request rate (shared prefix)', xLabel: 'offered rate (req/s)', yLabel: 'TTFT p90 (ms)', series: series((r) => r.ttft.p90), logY: true }) },
        { file: 'scheduling-throughput.svg', svg: toSvgLineChart({ title: 'Output throughput vs request rate', xLabel: 'offered rate (req/s)', yLabel: 'output tokens/s', series: series((r) => r.outputTokensPerS) }) },
      ]);
    }
  } finally {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
