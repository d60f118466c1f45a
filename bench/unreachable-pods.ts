/**
 * What pods that are listed but do not answer cost an idle gateway: `serve -f` with one pool of `--pods` ready pods
 * at loopback addresses where nothing listens (every connection is refused), no traffic. Each build (this one, and
 * `--baseline DIST`, another build's `dist/`, repeatable) is started in turn, A B A B, `--rounds` times (every other
 * round in reverse order); after a 3 s settle,
 * each is measured for `--seconds`: the process's CPU and its main thread's (from /proc), and its scavenges (from
 * `--trace-gc-nvp`): how many, their mean pause, and the bytes promoted to the old generation per second.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/unreachable-pods.js [--pods 500] [--seconds 12] [--rounds 2] [--baseline /tmp/before/dist]... [--serve-args '...']
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs, positiveFlag } from './lib/bench-args.js';
import { median } from './scenarios/lib/precise-pressure-verdict.js';
import { CLI, cpuMs, mainThreadCpuMs, waitForUrl } from './scenarios/lib/processes.js';

const { values } = benchArgs({
  options: {
    pods: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '12' },
    rounds: { type: 'string', default: '2' },
    baseline: { type: 'string', multiple: true },
    'serve-args': { type: 'string', default: '' },
  },
});
const PODS = positiveFlag(values, 'pods');
const SECONDS = positiveFlag(values, 'seconds');
const ROUNDS = positiveFlag(values, 'rounds');
const SERVE_ARGS = (values['serve-args'] ?? '').split(' ').filter(Boolean);
// Loopback only: the gateway on this benchmark's own octet; the pods on 127.0.180.1-127.0.187.250, where nothing listens.
const HOST = '127.0.76.3';
const PORT = 18630;
const SETTLE_MS = 3000;

interface Build {
  name: string;
  cli: string;
}

interface Reading {
  cpuPct: number;
  mainPct: number;
  scavengesPerSec: number;
  pauseMs: number;
  promotedMBps: number;
}

const builds: Build[] = [{ name: 'this build', cli: CLI }];
for (const dist of values.baseline ?? []) builds.push({ name: `baseline ${dist}`, cli: join(resolve(dist), 'src/cli/main.js') });

function fleetYaml(pods: number): string {
  if (pods > 8 * 250) throw new RangeError('--pods: at most 2000');
  const docs: string[] = [];
  for (let i = 0; i < pods; i++) {
    const ip = `127.0.${180 + Math.floor(i / 250)}.${1 + (i % 250)}`;
    docs.push(`apiVersion: v1\nkind: Pod\nmetadata: {name: dead-${i}, namespace: default, labels: {app: dead}}\nstatus: {podIP: ${ip}, phase: Running, conditions: [{type: Ready, status: "True"}]}`);
  }
  docs.push('apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nmetadata: {name: dead, namespace: default}\nspec:\n  selector: {matchLabels: {app: dead}}\n  targetPorts: [{number: 8000}]\n  endpointPickerRef: {name: dead-epp, port: {number: 9002}}');
  return `${docs.join('\n---\n')}\n`;
}

async function measure(build: Build, dir: string): Promise<Reading> {
  const child = spawn(process.execPath, ['--max-semi-space-size=32', '--trace-gc', '--trace-gc-nvp', build.cli, 'serve', '-f', dir, '--host', HOST, '--port', String(PORT), '--admin-port', '0', '--log-level', 'error', ...SERVE_ARGS], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  try {
    // Ready: the listener answers (its pods never will, so readiness itself is not the signal).
    await waitForUrl(`http://${HOST}:${PORT}/healthz`, 30_000);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const pid = child.pid!;
    const [p0, m0, from] = [cpuMs(pid)!, mainThreadCpuMs(pid)!, out.length];
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const [p1, m1] = [cpuMs(pid)!, mainThreadCpuMs(pid)!];
    const scavenges = out.slice(from).split('\n').filter((l) => / gc=s /.test(l));
    const field = (l: string, k: string): number => Number(new RegExp(` ${k}=([0-9.]+)`).exec(l)?.[1] ?? 0);
    const sum = (k: string): number => scavenges.reduce((a, l) => a + field(l, k), 0);
    return {
      cpuPct: (p1 - p0) / (SECONDS * 10),
      mainPct: (m1 - m0) / (SECONDS * 10),
      scavengesPerSec: scavenges.length / SECONDS,
      pauseMs: scavenges.length ? sum('pause') / scavenges.length : 0,
      promotedMBps: sum('promoted') / 1e6 / SECONDS,
    };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-unreachable-'));
  try {
    await writeFile(join(dir, 'fleet.yaml'), fleetYaml(PODS));
    const readings = new Map<string, Reading[]>(builds.map((b) => [b.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const b of r % 2 ? [...builds].reverse() : builds) {
        process.stderr.write(`round ${r + 1}/${ROUNDS}: ${b.name}...\n`);
        readings.get(b.name)!.push(await measure(b, dir));
      }
    }
    console.log(`\nAn idle gateway, one pool of ${PODS} ready pods that refuse every connection; ${SECONDS} s measured after ${SETTLE_MS / 1000} s, ${ROUNDS} rounds alternated; medians (range)\n`);
    console.log('| build | process CPU, % of a core | main thread CPU, % | scavenges/s | mean scavenge pause ms | promoted MB/s |');
    console.log('|---|---:|---:|---:|---:|---:|');
    const f = (xs: number[], d: number): string => `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}-${Math.max(...xs).toFixed(d)})`;
    for (const [name, rs] of readings) {
      console.log(`| ${name} | ${f(rs.map((x) => x.cpuPct), 1)} | ${f(rs.map((x) => x.mainPct), 1)} | ${f(rs.map((x) => x.scavengesPerSec), 2)} | ${f(rs.map((x) => x.pauseMs), 1)} | ${f(rs.map((x) => x.promotedMBps), 2)} |`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
