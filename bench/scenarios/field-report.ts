/**
 * Scenario `field-report`: the field report's table, side by side in one run, on four simulated pods
 * (google/gemma-2b-it and microsoft/Phi-3-mini-4k-instruct, two LoRA adapters each, two replicas each):
 *   (a) one InferencePool per base model, body-based routing (infergate)
 *   (b) one InferencePool mixing both models, model-aware picking (infergate)
 *   (c) the mixed pods behind a model-blind round-robin Service, no client retry
 *   (d) the same with client retries (up to 3), as the report's benchmark client did
 *
 *   npm run build && node dist/bench/scenarios/field-report.js [--requests 240] [--concurrency 8] [--out bench/results]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from '../lib/bench-args.js';
import { allowlistYaml, baseModelRouteYaml, podYaml, poolYaml, prefixRouteYaml } from '../../src/config/manifests.js';
import { multiModelWorkload } from '../../src/bench/multi-model-workload.js';
import { runBench, type RunResult } from '../../src/bench/run-bench.js';
import { toMarkdownTable } from '../../src/bench/report-markdown.js';
import { toSvgBarChart } from '../../src/bench/report-svg.js';
import { writeReport } from '../../src/bench/report-files.js';
import { CLI, SERVICE_PROXY, startNode, stopAll, waitForUrl } from './lib/processes.js';

const { values } = benchArgs({ options: { requests: { type: 'string', default: '240' }, concurrency: { type: 'string', default: '8' }, out: { type: 'string' }, seed: { type: 'string', default: '1' } } });
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const PORT = 18600;
const GEMMA = 'google/gemma-2b-it';
const PHI = 'microsoft/Phi-3-mini-4k-instruct';
const FLEET = [
  { name: 'gemma-0', ip: '127.0.42.2', model: GEMMA, loras: ['gemma-sql-lora', 'gemma-chat-lora'], label: 'gemma-2b' },
  { name: 'gemma-1', ip: '127.0.42.3', model: GEMMA, loras: ['gemma-sql-lora', 'gemma-chat-lora'], label: 'gemma-2b' },
  { name: 'phi3-0', ip: '127.0.42.4', model: PHI, loras: ['phi3-code-lora', 'phi3-summary-lora'], label: 'phi-3-mini' },
  { name: 'phi3-1', ip: '127.0.42.5', model: PHI, loras: ['phi3-code-lora', 'phi3-summary-lora'], label: 'phi-3-mini' },
];

/** The report's own measurements, for the side-by-side column. */
const REPORTED: Record<string, string> = {
  a: '0% ("no healthy upstream"; one EPP per pool)',
  b: '40-60% (model-blind EPP)',
  c: '50% ("model not found")',
  d: '100% at 2.0-2.2 attempts',
};

async function main(): Promise<void> {
  const pods = FLEET.map((p) => podYaml(p.name, p.ip, { 'llm-d.ai/inferenceServing': 'true', 'llm-d.ai/model-name': p.label }));
  const perModel = await mkdtemp(join(tmpdir(), 'infergate-fr-a-'));
  await writeFile(
    join(perModel, 'fleet.yaml'),
    [
      ...pods,
      poolYaml('gemma', { 'llm-d.ai/model-name': 'gemma-2b' }, PORT),
      poolYaml('phi3', { 'llm-d.ai/model-name': 'phi-3-mini' }, PORT),
      baseModelRouteYaml('gemma', GEMMA, [['gemma', 1]]),
      baseModelRouteYaml('phi3', PHI, [['phi3', 1]]),
      allowlistYaml('gemma', GEMMA, FLEET[0]!.loras),
      allowlistYaml('phi3', PHI, FLEET[2]!.loras),
    ].join('---\n'),
  );
  const unified = await mkdtemp(join(tmpdir(), 'infergate-fr-b-'));
  await writeFile(join(unified, 'fleet.yaml'), [...pods, poolYaml('all', { 'llm-d.ai/inferenceServing': 'true' }, PORT), prefixRouteYaml('all', '/v1/', 'all')].join('---\n'));
  try {
    for (const p of FLEET) startNode(CLI, ['sim', '--model', p.model, '--lora', p.loras.join(','), '--host', p.ip, '--port', String(PORT), '--pod-name', p.name, '--ttft', '20', '--itl', '5', '--max-num-seqs', '16']);
    await Promise.all(FLEET.map((p) => waitForUrl(`http://${p.ip}:${PORT}/health`)));
    startNode(CLI, ['serve', '-f', perModel, '--port', '18601', '--admin-port', '0', '--log-level', 'warn']);
    startNode(CLI, ['serve', '-f', unified, '--port', '18602', '--admin-port', '0', '--log-level', 'warn']);
    startNode(SERVICE_PROXY, ['--port', '18603', '--policy', 'round-robin', ...FLEET.flatMap((p) => ['--backend', `${p.ip}:${PORT}`])]);
    await Promise.all([waitForUrl('http://127.0.0.1:18601/readyz'), waitForUrl('http://127.0.0.1:18602/readyz'), waitForUrl('http://127.0.0.1:18603/health')]);

    const models = [...new Set(FLEET.flatMap((p) => [p.model, ...p.loras]))];
    const runs: [string, string, number][] = [
      ['a', '(a) per-model pools + body-based routing (infergate)', 18601],
      ['b', '(b) one mixed pool, model-aware picking (infergate)', 18602],
      ['c', '(c) mixed pods behind a round-robin Service, no retry', 18603],
      ['d', '(d) mixed pods behind a round-robin Service, client retry up to 3', 18603],
    ];
    const results: RunResult[] = [];
    for (const [key, label, port] of runs) {
      process.stderr.write(`${label}...\n`);
      results.push(
        await runBench({
          url: `http://127.0.0.1:${port}`,
          label,
          workload: multiModelWorkload({ models, promptTokens: 64, maxTokens: 16 }),
          load: { kind: 'closed', concurrency: CONCURRENCY },
          maxRequests: REQUESTS,
          durationS: 120,
          retries: key === 'd' ? 3 : 0,
          seed: Number(values.seed),
        }),
      );
    }
    const pct = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
    const lines = [
      '| configuration | success | attempts per success | routing accuracy | TTFT p50 ms | e2e p50 ms | the report measured |',
      '|---|---:|---:|---:|---:|---:|---|',
      ...results.map((r, i) => `| ${r.label} | ${pct(r.successRate)} | ${r.attemptsPerSuccess.toFixed(2)} | ${pct(r.routingAccuracy)} | ${r.ttft.p50.toFixed(1)} | ${r.e2e.p50.toFixed(1)} | ${REPORTED[runs[i]![0]]} |`),
    ];
    console.log(`\n${REQUESTS} requests per configuration, closed loop at concurrency ${CONCURRENCY}, the 6 models (2 bases + 4 adapters) in turn, streamed\n`);
    console.log(lines.join('\n'));
    console.log(`\n${toMarkdownTable(results)}`);
    if (values.out) {
      const chart = toSvgBarChart({ title: 'Field report: requests that succeed', yLabel: 'success %', bars: results.map((r, i) => ({ label: runs[i]![0], value: 100 * r.successRate })) });
      writeReport(values.out, 'field-report', results, [{ file: 'field-report-success.svg', svg: chart }]);
    }
  } finally {
    await stopAll();
    await rm(perModel, { recursive: true, force: true });
    await rm(unified, { recursive: true, force: true });
  }
}

await main();
