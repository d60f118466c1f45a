/**
 * Requests lost while an operator (or a tool) edits `serve -f`'s configuration badly: the file truncated to
 * empty, written halfway with a 1 s pause, deleted, and each time restored. Two simulated pods (two models,
 * 127.0.61.10-11) and a gateway (`infergate serve -f DIR`) run as child processes; a closed loop of
 * requests for both models runs throughout, and each request counts in the phase it started in. Prints a
 * Markdown table of requests sent and failed per phase. `--allow-empty-config` runs the same sequence with
 * the hold-back rule off, to show what it prevents (issue #10).
 *
 *   npx tsc -p . && node dist/bench/config-edits.js [--concurrency 4] [--hold 3] [--allow-empty-config] [--settle 30000]
 */
import { mkdtemp, open, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { benchArgs } from './lib/bench-args.js';
import { Pool } from 'undici';
import { baseModelRouteYaml, podYaml, poolYaml } from '../src/config/manifests.js';
import { CLI, startNode, stopAll, waitForUrl } from './scenarios/lib/processes.js';

const { values } = benchArgs({
  options: {
    concurrency: { type: 'string', default: '4' },
    hold: { type: 'string', default: '3' },
    settle: { type: 'string', default: '30000' },
    'allow-empty-config': { type: 'boolean', default: false },
    port: { type: 'string', default: '18610' },
  },
});
const CONCURRENCY = Math.min(64, Number(values.concurrency));
/** How long a broken state (empty, deleted) stays before it is restored, s. */
const HOLD_S = Math.min(60, Number(values.hold));
const SIM_PORT = Number(values.port);
const GW_PORT = SIM_PORT + 1;
const MODELS = [
  { pool: 'gemma', model: 'google/gemma-2b-it', host: '127.0.61.10' },
  { pool: 'qwen', model: 'Qwen/Qwen2.5-7B-Instruct', host: '127.0.61.11' },
];
const CONFIG = MODELS.map((m) => [podYaml(`${m.pool}-0`, m.host, { pool: m.pool }), poolYaml(m.pool, { pool: m.pool }, SIM_PORT), baseModelRouteYaml(m.pool, m.model, [[m.pool, 1]])].join('---\n')).join('---\n');

interface Phase {
  name: string;
  sent: number;
  failed: number;
  statuses: Map<string, number>;
  /** What /readyz details.config showed during the phase: `held`, `rejected`. */
  seen: Set<string>;
}

const phases: Phase[] = [];
let current: Phase | undefined;
function phase(name: string): void {
  current = { name, sent: 0, failed: 0, statuses: new Map(), seen: new Set() };
  phases.push(current);
  process.stderr.write(`${name}...\n`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-config-edits-'));
  const file = join(dir, 'config.yaml');
  await writeFile(file, CONFIG);
  for (const m of MODELS) startNode(CLI, ['sim', '--model', m.model, '--host', m.host, '--port', String(SIM_PORT), '--ttft', '1', '--itl', '1', '--max-num-seqs', '64']);
  let stop = false;
  try {
    for (const m of MODELS) await waitForUrl(`http://${m.host}:${SIM_PORT}/health`);
    const flags = ['--config-settle-period', String(values.settle), ...(values['allow-empty-config'] ? ['--allow-empty-config'] : [])];
    startNode(CLI, ['serve', '-f', dir, '--port', String(GW_PORT), '--admin-port', '0', '--log-level', 'warn', ...flags]);
    await waitForUrl(`http://127.0.0.1:${GW_PORT}/readyz`);
    const pool = new Pool(`http://127.0.0.1:${GW_PORT}`, { connections: CONCURRENCY });
    const worker = async (w: number): Promise<void> => {
      // Bounded by count as well as by the phases' end.
      for (let n = 0; !stop && n < 1_000_000; n++) {
        const p = current!;
        p.sent++;
        const model = MODELS[(n + w) % MODELS.length]!.model;
        let outcome = '200';
        try {
          const res = await pool.request({ path: '/v1/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, prompt: 'x', max_tokens: 2 }) });
          const text = await res.body.text();
          if (res.statusCode !== 200) outcome = `${res.statusCode} ${(/"code":"([^"]+)"/.exec(text) ?? [])[1] ?? ''}`.trim();
        } catch (e) {
          outcome = (e as Error).message;
        }
        if (outcome !== '200') {
          p.failed++;
          p.statuses.set(outcome, (p.statuses.get(outcome) ?? 0) + 1);
        }
      }
    };
    const watchReadyz = async (): Promise<void> => {
      for (let n = 0; !stop && n < 100_000; n++) {
        try {
          const res = await pool.request({ path: '/readyz', method: 'GET' });
          const body = (await res.body.json()) as { details?: { config?: Record<string, unknown> } };
          for (const k of Object.keys(body.details?.config ?? {})) current!.seen.add(k);
        } catch {
          current!.seen.add('readyz failed');
        }
        await delay(100);
      }
    };
    phase('baseline (2 s)');
    const load = Promise.all([...Array.from({ length: CONCURRENCY }, (_, w) => worker(w)), watchReadyz()]);
    await delay(2000);

    phase(`truncate to empty, ${HOLD_S} s, then restore`);
    await writeFile(file, '');
    await delay(HOLD_S * 1000);
    await writeFile(file, CONFIG);
    await delay(1000);

    phase('partial write: half the bytes, 1 s pause, the rest');
    await slowWrite(file, Math.floor(CONFIG.length / 2));
    await delay(1000);

    // A writer that flushes whole documents: the first model's, then (1 s later) the second's.
    phase("partial write: the first model's documents, 1 s pause, the rest");
    await slowWrite(file, CONFIG.indexOf('apiVersion: v1\nkind: Pod', 1));
    await delay(1000);

    phase(`delete the file, ${HOLD_S} s, then restore`);
    await unlink(file);
    await delay(HOLD_S * 1000);
    await writeFile(file, CONFIG);
    await delay(1000);

    phase('after the restore (2 s)');
    await delay(2000);
    stop = true;
    await load;
    await pool.close();
  } finally {
    stop = true;
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  }
  const mode = values['allow-empty-config'] ? '--allow-empty-config' : `default (--config-settle-period ${values.settle})`;
  console.log(`\nconfig-edit sequence against \`infergate serve -f\`, ${mode}, ${CONCURRENCY} concurrent requests\n`);
  console.log('| phase | requests | failed | failures | /readyz details.config showed |');
  console.log('|---|---:|---:|---|---|');
  for (const p of phases) console.log(`| ${p.name} | ${p.sent} | ${p.failed} | ${[...p.statuses].map(([k, v]) => `${v} x ${k}`).join(', ')} | ${[...p.seen].join(', ')} |`);
  const sent = phases.reduce((s, p) => s + p.sent, 0);
  const failed = phases.reduce((s, p) => s + p.failed, 0);
  console.log(`| **all** | ${sent} | ${failed} | | |`);
}

/** Rewrites the file as a slow writer does: the first `cut` characters, a 1 s pause, the rest. */
async function slowWrite(file: string, cut: number): Promise<void> {
  const fh = await open(file, 'w');
  try {
    await fh.write(CONFIG.slice(0, cut));
    await delay(1000);
    await fh.write(CONFIG.slice(cut));
  } finally {
    await fh.close();
  }
}

await main();
