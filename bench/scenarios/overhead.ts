/**
 * Scenario `overhead`: what a proxy costs per request. A simulated pod answers at once (TTFT 0, ITL 0, one
 * token); the same closed-loop load is sent straight to it, through infergate, through nginx and through
 * Portkey's open-source gateway, alternated round by round in one run so the machine's noise hits all alike.
 *
 *   npm run build && node dist/bench/scenarios/overhead.js [--concurrency 16] [--seconds 5] [--rounds 2] [--stream] [--skip nginx,portkey] [--out bench/results]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { podYaml, poolYaml, baseModelRouteYaml } from '../../src/config/manifests.js';
import { closedLoop, type LoadResult } from './lib/closed-loop.js';
import { CLI, rssMiB, startNode, stopAll, waitForUrl } from './lib/processes.js';
import { portkeyHeaders, startNginx, startPortkey } from './lib/third-party-proxies.js';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    stream: { type: 'boolean', default: false },
    skip: { type: 'string', default: '' },
    out: { type: 'string' },
  },
});
const CONCURRENCY = Number(values.concurrency);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const SKIP = new Set((values.skip ?? '').split(',').filter(Boolean));
const SIM = '127.0.41.2:18500';
const PORTS = { infergate: 18501, nginx: 18502, portkey: 18503 };
const MODEL = 'bench/model';

interface Target {
  name: string;
  origin: string;
  headers?: Record<string, string>;
  pid?: number | undefined;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-overhead-'));
  const [host, port] = SIM.split(':') as [string, string];
  await writeFile(join(dir, 'fleet.yaml'), [podYaml('pod-0', host, { app: 'bench' }), poolYaml('bench', { app: 'bench' }, Number(port)), baseModelRouteYaml('bench', MODEL, [['bench', 1]])].join('---\n'));
  startNode(CLI, ['sim', '--model', MODEL, '--host', host, '--port', port, '--ttft', '0', '--itl', '0', '--prefill-time-per-token', '0', '--max-num-seqs', '1024']);
  const targets: Target[] = [{ name: 'direct to pod', origin: `http://${SIM}` }];
  try {
    await waitForUrl(`http://${SIM}/health`);
    const gw = startNode(CLI, ['serve', '-f', dir, '--port', String(PORTS.infergate), '--log-level', 'warn']);
    await waitForUrl(`http://127.0.0.1:${PORTS.infergate}/readyz`);
    targets.push({ name: 'infergate', origin: `http://127.0.0.1:${PORTS.infergate}`, pid: gw.pid });
    if (!SKIP.has('nginx')) {
      const nginx = startNginx(PORTS.nginx, SIM);
      await waitForUrl(`http://127.0.0.1:${PORTS.nginx}/health`);
      targets.push({ name: 'nginx (1 worker)', origin: `http://127.0.0.1:${PORTS.nginx}`, pid: nginx.pid });
    }
    if (!SKIP.has('portkey')) {
      const pk = startPortkey(PORTS.portkey, host);
      const headers = portkeyHeaders(SIM);
      await waitForUrl(`http://127.0.0.1:${PORTS.portkey}/v1/completions`, 30_000, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: MODEL, prompt: 'x', max_tokens: 1 }) });
      targets.push({ name: 'Portkey gateway (OSS)', origin: `http://127.0.0.1:${PORTS.portkey}`, headers, pid: pk.pid });
    }
    const body = JSON.stringify({ model: MODEL, prompt: 'Say hello to the gateway benchmark.', max_tokens: 1, stream: values.stream });
    const run = (t: Target, seconds: number): Promise<LoadResult> => closedLoop({ origin: t.origin, target: t.name, seconds, concurrency: CONCURRENCY, path: '/v1/completions', body, ...(t.headers ? { headers: t.headers } : {}) });
    for (const t of targets) await run(t, 1); // warm-up: JIT, connection pools
    const results = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
    const rss = new Map<string, number>();
    for (let r = 0; r < ROUNDS; r++) {
      for (const t of targets) {
        process.stderr.write(`round ${r + 1}/${ROUNDS}: ${t.name}...\r`);
        results.get(t.name)!.push(await run(t, SECONDS));
        const m = rssMiB(t.pid);
        if (m !== null) rss.set(t.name, Math.max(rss.get(t.name) ?? 0, m));
      }
    }
    const mean = (xs: LoadResult[], k: 'rps' | 'p50' | 'p99'): number => xs.reduce((s, x) => s + x[k], 0) / xs.length;
    const direct = results.get('direct to pod')!;
    const f = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');
    const lines = [
      `${ROUNDS} rounds x ${SECONDS} s per target, concurrency ${CONCURRENCY}, ${values.stream ? 'streamed' : 'non-streamed'} 1-token completions; means over rounds`,
      '',
      '| target | req/s | vs direct | p50 ms | p99 ms | added p50 ms | added p99 ms | errors | RSS MiB |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ];
    for (const t of targets) {
      const xs = results.get(t.name)!;
      const errors = xs.reduce((s, x) => s + x.errors, 0);
      const added = t.name === 'direct to pod' ? ['-', '-'] : [f(mean(xs, 'p50') - mean(direct, 'p50')), f(mean(xs, 'p99') - mean(direct, 'p99'))];
      lines.push(`| ${t.name} | ${mean(xs, 'rps').toFixed(0)} | ${(mean(xs, 'rps') / mean(direct, 'rps')).toFixed(2)} | ${f(mean(xs, 'p50'))} | ${f(mean(xs, 'p99'))} | ${added[0]} | ${added[1]} | ${errors} | ${rss.has(t.name) ? rss.get(t.name)!.toFixed(0) : '-'} |`);
    }
    const ig = mean(results.get('infergate')!, 'rps');
    const ratios = targets.filter((t) => t.name !== 'infergate').map((t) => `${(ig / mean(results.get(t.name)!, 'rps')).toFixed(2)}x ${t.name}`);
    lines.push('', `infergate throughput = ${ratios.join(', ')}`);
    const text = lines.join('\n');
    console.log(`\n${text}`);
    if (values.out) {
      mkdirSync(values.out, { recursive: true });
      const name = `overhead${values.stream ? '-stream' : ''}`;
      writeFileSync(join(values.out, `${name}.md`), text + '\n');
      writeFileSync(join(values.out, `${name}.json`), JSON.stringify(Object.fromEntries(results), null, 2));
    }
  } finally {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
