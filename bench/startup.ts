/**
 * How long a process takes from its start to answering, and how much memory it holds once idle: `serve -f`
 * (until `/readyz` says ready) and `sim` (until `/health` answers), each started `--runs` times. With
 * `--baseline DIST` (another build's `dist/`, e.g. a `git archive` of an earlier commit, compiled) the two builds
 * are started in turn, A B A B, so both see the same machine. Reports the median and range of the time to ready
 * and the median RSS one second after.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/startup.js [--runs 6] [--baseline /tmp/before/dist]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs, positiveFlag } from './lib/bench-args.js';
import { onePodFleetYaml } from '../src/config/manifests.js';
import { CLI, rssMiB } from './scenarios/lib/processes.js';

const { values } = benchArgs({
  options: {
    runs: { type: 'string', default: '6' },
    baseline: { type: 'string' },
  },
});
const RUNS = positiveFlag(values, 'runs');
// Loopback only, on this benchmark's own octet; one process at a time.
const HOST = '127.0.76.2';
const PORT = 18620;
const SETTLE_MS = 1000;

interface Build {
  name: string;
  cli: string;
}

const builds: Build[] = [{ name: 'this build', cli: CLI }];
if (values.baseline !== undefined) builds.push({ name: `baseline ${values.baseline}`, cli: join(resolve(values.baseline), 'src/cli/main.js') });

/** One start: milliseconds until the URL answers 200, and the RSS a second later. */
async function once(cli: string, args: string[], readyPath: string): Promise<{ ms: number; rss: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [cli, ...args], { stdio: 'ignore' });
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  try {
    const url = `http://${HOST}:${PORT}${readyPath}`;
    const deadline = started + 30_000;
    while (performance.now() < deadline) {
      const ok = await fetch(url).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) {
        const ms = performance.now() - started;
        await new Promise((r) => setTimeout(r, SETTLE_MS));
        return { ms, rss: rssMiB(child.pid) ?? NaN };
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`${args[0]} did not answer ${url} within 30 s`);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = await mkdtemp(join(tmpdir(), 'infergate-startup-'));
try {
  await writeFile(join(dir, 'fleet.yaml'), onePodFleetYaml('bench', '127.0.76.3', 18621, 'bench/model'));
  const commands = [
    { label: 'serve -f (until /readyz)', args: ['serve', '-f', dir, '--host', HOST, '--port', String(PORT), '--admin-port', '0', '--log-level', 'warn'], ready: '/readyz' },
    { label: 'sim (until /health)', args: ['sim', '--host', HOST, '--port', String(PORT), '--model', 'bench/model'], ready: '/health' },
  ];
  const rows: string[] = [];
  for (const c of commands) {
    const seen = builds.map(() => ({ ms: [] as number[], rss: [] as number[] }));
    for (let i = 0; i < RUNS; i++) {
      for (const [k, b] of builds.entries()) {
        const r = await once(b.cli, c.args, c.ready);
        seen[k]!.ms.push(r.ms);
        seen[k]!.rss.push(r.rss);
      }
    }
    for (const [k, b] of builds.entries()) {
      const s = seen[k]!;
      rows.push(`| ${c.label} | ${b.name} | ${median(s.ms).toFixed(0)} | ${Math.min(...s.ms).toFixed(0)}-${Math.max(...s.ms).toFixed(0)} | ${median(s.rss).toFixed(0)} |`);
    }
  }
  console.log(`${RUNS} starts per command and build${builds.length > 1 ? ', builds alternated' : ''}; Node ${process.version}\n`);
  console.log('| command | build | ready ms, median | range | RSS MiB 1 s after, median |');
  console.log('|---|---|---:|---|---:|');
  for (const r of rows) console.log(r);
} finally {
  await rm(dir, { recursive: true, force: true });
}
