/**
 * Scenario `overhead`: what a proxy costs per request. The upstream is nginx answering a fixed chat completion
 * (or a fixed SSE stream of one) from memory, so it is never the bottleneck; the load is wrk's. The same load is
 * sent straight to it, through a bare Node pass-through (the runtime floor: read the body, JSON.parse it, stream
 * it on with undici), through infergate (metrics on, the default; then metrics and `--access-log FILE`), through
 * nginx and through Portkey's open-source gateway, alternated round by round in one run (each round starting one
 * target later) so the machine's noise hits all alike; the goals' ratios are also given per round, as the median of
 * the rounds' ratios with a bootstrap interval (lib/paired-ratio.ts), which says whether this one run settles them.
 * Then each target is measured again at one connection, for the added p50.
 *
 *   npx tsc -p . && node dist/bench/scenarios/overhead.js [--connections 50] [--seconds 5] [--rounds 3] [--stream] [--h2c]
 *       [--processes 1] [--skip nginx,portkey,access-log] [--baseline DIST_DIR [--baseline-label NAME]]... [--cpu-prof DIR] [--out bench/results]
 *
 * `--h2c` puts the proxies' upstream on HTTP/2 cleartext with prior knowledge: nginx also listens with `http2` (no
 * TLS) on another port, the pool says `appProtocol: kubernetes.io/h2c`, and the Node floor speaks h2c with undici as
 * infergate does. "direct" stays on nginx's HTTP/1.1 port (wrk speaks HTTP/1.1 only). nginx's proxy and Portkey are
 * left out: neither can proxy to an h2c upstream.
 *
 * `--baseline DIST_DIR` (repeatable, each with an optional `--baseline-label`) adds "infergate before": the same gateway run from another build's dist/ (a copy made
 * before a change), for before/after figures from one run. `--cpu-prof DIR` runs the metrics-on infergate and the Node
 * floor under `node --cpu-prof` and writes their profiles to DIR when the scenario stops them.
 * Every infergate runs with `--max-semi-space-size=32`, as the Dockerfile and the kustomize Deployment run it
 * (`--gateway-node-options '...'` to change, `''` for Node's defaults; `--baseline-node-options` for the baselines alone). The table's CPU µs/req is each proxy
 * process's user + system time over its loaded rounds, per request: the figure least moved by other jobs. Its
 * "main thread busy" is the share of each loaded round the process's main thread spent on CPU: near 100%, that
 * thread is the limit, and throughput is one thread's work per request.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from '../lib/bench-args.js';
import { onePodFleetYaml } from '../../src/config/manifests.js';
import type { LoadResult } from './lib/closed-loop.js';
import { startFixedUpstream } from './lib/fixed-upstream.js';
import { CLI, cpuMs, mainThreadCpuMs, rssMiB, start, stopAll, waitForUrl } from './lib/processes.js';
import { formatPairedRatio, pairedRatio, verdict } from './lib/paired-ratio.js';
import { portkeyHeaders, startNginx, startPortkey } from './lib/third-party-proxies.js';
import { wrkLoad } from './lib/wrk-load.js';

const { values } = benchArgs({
  options: {
    connections: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    processes: { type: 'string', default: '1' },
    'latency-seconds': { type: 'string', default: '3' },
    stream: { type: 'boolean', default: false },
    h2c: { type: 'boolean', default: false },
    skip: { type: 'string', default: '' },
    baseline: { type: 'string', multiple: true },
    'baseline-label': { type: 'string', multiple: true },
    'cpu-prof': { type: 'string' },
    'gateway-node-options': { type: 'string' },
    'baseline-node-options': { type: 'string' },
    out: { type: 'string' },
  },
});
const CONNECTIONS = Number(values.connections);
const SECONDS = Number(values.seconds);
const LATENCY_SECONDS = Number(values['latency-seconds']);
const ROUNDS = Number(values.rounds);
/**
 * Processes per Node target (the floor, each infergate): two processes of one build have read up to 13% apart
 * over a whole run (docs/benchmarks.md, "Runs of 2026-12-07"), so with N each round measures every process and
 * takes their mean.
 */
const PROCESSES = Number(values.processes);
const STREAM = values.stream === true;
const H2C = values.h2c === true;
const SKIP = new Set([...(values.skip ?? '').split(',').filter(Boolean), ...(H2C ? ['nginx', 'portkey'] : [])]);
// Loopback only, on the scenario's own octets.
const UPSTREAM = '127.0.77.2:18600';
/** The same nginx, h2c (prior knowledge), with `--h2c`: what the gateways and the Node floor are pointed at. */
const UPSTREAM_H2C = '127.0.77.2:18610';
const HOSTS = { floor: '127.0.77.3', infergate: '127.0.77.4', accessLog: '127.0.77.5', nginx: '127.0.77.6', baseline: '127.0.77.7' };
const PORTS = { floor: 18601, infergate: 18602, accessLog: 18603, nginx: 18604, portkey: 18605, baseline: 18606 };
const MODEL = 'bench/model';
/**
 * Node options every infergate target runs with: those the Dockerfile and the kustomize Deployment set. A 32 MiB
 * semi-space took CPU per request from 98 to 86 µs at 50 connections (docs/benchmarks.md, "Node options");
 * `--gateway-node-options=` measures Node's defaults instead.
 */
const IG_NODE_FLAGS = (values['gateway-node-options'] ?? '--max-semi-space-size=32').split(' ').filter(Boolean);
/** Node options of the --baseline gateways: the same unless `--baseline-node-options` says otherwise (to compare options). */
const BASELINE_NODE_FLAGS = values['baseline-node-options'] !== undefined ? values['baseline-node-options'].split(' ').filter(Boolean) : IG_NODE_FLAGS;
const FLOOR = fileURLToPath(new URL('./lib/node-floor.js', import.meta.url));
const DIRECT = H2C ? 'direct to upstream (nginx, fixed answer, its HTTP/1.1 port)' : 'direct to upstream (nginx, fixed answer)';
const NODE_FLOOR = H2C ? 'Node floor (node:http + undici, h2c upstream)' : 'Node floor (node:http + undici)';
const IG = H2C ? 'infergate (metrics, h2c pool)' : 'infergate (metrics)';
const IG_LOG = H2C ? 'infergate (metrics + access log, h2c pool)' : 'infergate (metrics + access log)';
const IG_BEFORE = 'infergate before (metrics)';

interface Target {
  /** The target as reported; its processes (`--processes`) share it. */
  name: string;
  origin: string;
  headers?: Record<string, string>;
  pid?: number | undefined;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-overhead-'));
  const [host, port] = UPSTREAM.split(':') as [string, string];
  const poolPort = Number(H2C ? UPSTREAM_H2C.split(':')[1] : port);
  await writeFile(join(dir, 'fleet.yaml'), onePodFleetYaml('bench', host, poolPort, MODEL, H2C ? 'kubernetes.io/h2c' : undefined));
  startFixedUpstream(UPSTREAM, MODEL, STREAM, H2C ? UPSTREAM_H2C : undefined);
  const targets: Target[] = [{ name: DIRECT, origin: `http://${UPSTREAM}` }];
  const serveArgs = (h: string, p: number): string[] => ['serve', '-f', dir, '--host', h, '--port', String(p), '--admin-port', '0', '--log-level', 'warn', '--shutdown-delay', '0s'];
  try {
    await waitForUrl(`http://${UPSTREAM}/health`);
    const prof = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(values['cpu-prof'])] : [];
    // Each Node target's processes listen on its address, the first on its port, the next ones 100 ports up each.
    for (let i = 0; i < PROCESSES; i++) {
      const up = i * 100;
      const floor = start(process.execPath, [...prof, FLOOR, '--host', HOSTS.floor, '--port', String(PORTS.floor + up), '--upstream', H2C ? UPSTREAM_H2C : UPSTREAM, ...(H2C ? ['--h2c'] : [])]);
      targets.push({ name: NODE_FLOOR, origin: `http://${HOSTS.floor}:${PORTS.floor + up}`, pid: floor.pid });
      const gw = start(process.execPath, [...prof, ...IG_NODE_FLAGS, CLI, ...serveArgs(HOSTS.infergate, PORTS.infergate + up)]);
      targets.push({ name: IG, origin: `http://${HOSTS.infergate}:${PORTS.infergate + up}`, pid: gw.pid });
      if (!SKIP.has('access-log')) {
        const gwLog = start(process.execPath, [...IG_NODE_FLAGS, CLI, ...serveArgs(HOSTS.accessLog, PORTS.accessLog + up), '--access-log', join(dir, `access-${i}.log`)]);
        targets.push({ name: IG_LOG, origin: `http://${HOSTS.accessLog}:${PORTS.accessLog + up}`, pid: gwLog.pid });
      }
      // The first --baseline is "before"; each further one is named by its --baseline-label (else its folder).
      for (const [b, dist] of (values.baseline ?? []).entries()) {
        const host = `127.0.77.${7 + b * 3}`;
        const before = start(process.execPath, [...BASELINE_NODE_FLAGS, join(resolve(dist), 'src/cli/main.js'), ...serveArgs(host, PORTS.baseline + up)]);
        const label = values['baseline-label']?.[b];
        const name = b === 0 && label === undefined ? IG_BEFORE : `infergate ${label ?? basename(resolve(dist, '..'))} (metrics)`;
        targets.push({ name, origin: `http://${host}:${PORTS.baseline + up}`, pid: before.pid });
      }
    }
    if (!SKIP.has('nginx')) {
      const nginx = startNginx(`${HOSTS.nginx}:${PORTS.nginx}`, UPSTREAM);
      targets.push({ name: 'nginx proxy (1 worker)', origin: `http://${HOSTS.nginx}:${PORTS.nginx}`, pid: nginx.pid });
    }
    if (!SKIP.has('portkey')) {
      const pk = startPortkey(PORTS.portkey, host);
      targets.push({ name: 'Portkey gateway (OSS)', origin: `http://127.0.0.1:${PORTS.portkey}`, headers: portkeyHeaders(UPSTREAM), pid: pk.pid });
    }
    const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say hello to the gateway benchmark.' }], max_tokens: 2, stream: STREAM });
    const ready = { method: 'POST', headers: { 'content-type': 'application/json' }, body };
    for (const t of targets) await waitForUrl(`${t.origin}/v1/chat/completions`, 30_000, { ...ready, headers: { ...ready.headers, ...t.headers } });
    const run = (t: Target, seconds: number, connections: number): Promise<LoadResult> => wrkLoad({ origin: t.origin, target: t.name, seconds, connections, path: '/v1/chat/completions', body, ...(t.headers ? { headers: t.headers } : {}) });
    for (const t of targets) await run(t, 2, CONNECTIONS); // warm-up: JIT, connection pools
    const loaded = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
    const single = new Map<string, LoadResult[]>(targets.map((t) => [t.name, []]));
    const rss = new Map<string, number>();
    // CPU µs per request of each proxy process, per round.
    const cpuPerRequest = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    // The main thread's share of each loaded round (nginx's master proxies nothing: left out as for CPU).
    const mainBusy = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      // Each round starts one target later than the last, so no target always runs right after the same one.
      for (const t of rotated(targets, r)) {
        process.stderr.write(`round ${r + 1}/${ROUNDS}: ${t.name}, ${CONNECTIONS} connections...\n`);
        const cpu0 = cpuMs(t.pid);
        const main0 = mainThreadCpuMs(t.pid);
        const result = await run(t, SECONDS, CONNECTIONS);
        loaded.get(t.name)!.push(result);
        const cpu1 = cpuMs(t.pid);
        const main1 = mainThreadCpuMs(t.pid);
        if (main0 !== null && main1 !== null && main1 > main0) mainBusy.get(t.name)!.push((main1 - main0) / (SECONDS * 1000));
        // nginx's master does no proxying (its worker does): a process that used no CPU is not the one measured.
        if (cpu0 !== null && cpu1 !== null && cpu1 > cpu0 && result.rps > 0) cpuPerRequest.get(t.name)!.push(((cpu1 - cpu0) * 1000) / (result.rps * SECONDS));
        const m = rssMiB(t.pid);
        if (m !== null) rss.set(t.name, Math.max(rss.get(t.name) ?? 0, m));
      }
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const t of rotated(targets, r)) {
        process.stderr.write(`round ${r + 1}/${ROUNDS}: ${t.name}, 1 connection...\n`);
        single.get(t.name)!.push(await run(t, LATENCY_SECONDS, 1));
      }
    }
    const text = report(targets, loaded, single, rss, cpuPerRequest, mainBusy);
    console.log(`\n${text}`);
    if (values.out) {
      mkdirSync(values.out, { recursive: true });
      const name = `overhead${STREAM ? '-stream' : ''}${H2C ? '-h2c' : ''}`;
      writeFileSync(join(values.out, `${name}.md`), text + '\n');
      writeFileSync(join(values.out, `${name}.json`), JSON.stringify({ processes: PROCESSES, loaded: Object.fromEntries(loaded), roundRps: Object.fromEntries([...loaded].map(([name, xs]) => [name, roundMeans(xs, processesOf(targets, name))])), single: Object.fromEntries(single) }, null, 2));
    }
  } finally {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The targets in their order, starting at the `round`-th (wrapping). */
const rotated = <T>(xs: readonly T[], round: number): T[] => xs.map((_, i) => xs[(i + round) % xs.length]!);

/** How many processes report as `name`: `--processes` for the Node targets, 1 for the others. */
const processesOf = (targets: readonly Target[], name: string): number => targets.filter((t) => t.name === name).length;

/**
 * Each round's req/s of one target: its runs come `processes` a round (one per process), so a round's figure is
 * the mean of each consecutive `processes` of them.
 */
const roundMeans = (xs: readonly LoadResult[], processes: number): number[] => {
  const out: number[] = [];
  for (let i = 0; i < xs.length; i += processes) out.push(mean(xs.slice(i, i + processes), 'rps'));
  return out;
};

const mean = (xs: readonly LoadResult[], k: 'rps' | 'p50' | 'p99'): number => xs.reduce((s, x) => s + x[k], 0) / xs.length;
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');
const f3 = (n: number): string => (Number.isFinite(n) ? n.toFixed(3) : '-');

function report(allTargets: readonly Target[], loaded: Map<string, LoadResult[]>, single: Map<string, LoadResult[]>, rss: Map<string, number>, cpu: Map<string, number[]>, mainBusy: Map<string, number[]>): string {
  // One row per target, whatever its number of processes.
  const targets = allTargets.filter((t, i) => allTargets.findIndex((u) => u.name === t.name) === i);
  const direct = loaded.get(DIRECT)!;
  const direct1 = single.get(DIRECT)!;
  const floorRps = mean(loaded.get(NODE_FLOOR)!, 'rps');
  const lines = [
    `${ROUNDS} rounds x ${SECONDS} s per target at ${CONNECTIONS} connections, then ${ROUNDS} rounds x ${LATENCY_SECONDS} s at 1 connection (wrk, 1 thread), alternated, each round starting one target later${PROCESSES > 1 ? `; ${PROCESSES} processes per Node target, each measured every round (a round's req/s is their mean; the other columns are over all their runs)` : ''}; ${STREAM ? 'streamed (SSE)' : 'non-streamed'} chat completions${H2C ? '; proxies speak h2c (prior knowledge) to the upstream' : ''}; means over rounds`,
    '',
    `| target | req/s | req/s per round | x floor | CPU µs/req | main thread busy | p50 ms | p99 ms | p50 ms, 1 conn | added p50 ms, 1 conn | errors | RSS MiB |`,
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const t of targets) {
    const xs = loaded.get(t.name)!;
    const ys = single.get(t.name)!;
    const errors = [...xs, ...ys].reduce((s, x) => s + x.errors, 0);
    const added = t.name === DIRECT ? '-' : f3(mean(ys, 'p50') - mean(direct1, 'p50'));
    const us = cpu.get(t.name) ?? [];
    const cpuText = us.length > 0 ? (us.reduce((a, b) => a + b, 0) / us.length).toFixed(0) : '-';
    const busy = mainBusy.get(t.name) ?? [];
    const busyText = busy.length > 0 ? `${((100 * busy.reduce((a, b) => a + b, 0)) / busy.length).toFixed(0)}%` : '-';
    lines.push(`| ${t.name} | ${mean(xs, 'rps').toFixed(0)} | ${roundMeans(xs, processesOf(allTargets, t.name)).map((x) => x.toFixed(0)).join(', ')} | ${f2(mean(xs, 'rps') / floorRps)} | ${cpuText} | ${busyText} | ${f2(mean(xs, 'p50'))} | ${f2(mean(xs, 'p99'))} | ${f3(mean(ys, 'p50'))} | ${added} | ${errors} | ${rss.has(t.name) ? rss.get(t.name)!.toFixed(0) : '-'} |`);
  }
  const proxies = targets.filter((t) => t.name !== DIRECT).map((t) => mean(loaded.get(t.name)!, 'rps'));
  const headroom = mean(direct, 'rps') / Math.max(...proxies);
  lines.push('', `upstream headroom: direct req/s = ${headroom.toFixed(1)}x the fastest proxy's${headroom < 5 ? ' (below 5x: that proxy may be capped by the upstream and the load generator sharing its cores)' : ''}`);
  const ig = mean(loaded.get(IG)!, 'rps');
  const ig1 = mean(single.get(IG)!, 'p50') - mean(direct1, 'p50');
  lines.push(`infergate (metrics) = ${(ig / floorRps).toFixed(2)}x the Node floor's req/s (goal >= 0.8); added p50 at 1 connection ${f3(ig1)} ms (goal <= 0.25)`);
  const rps = (name: string): number[] => roundMeans(loaded.get(name)!, processesOf(allTargets, name));
  const perRound = (a: string, b: string, goal: number, what: string): string => {
    const p = pairedRatio(rps(a), rps(b));
    return `${what} per round: ${formatPairedRatio(p)}; goal >= ${goal}: ${verdict(p, goal)} in this run`;
  };
  lines.push(perRound(IG, NODE_FLOOR, 0.8, `infergate (metrics) x the Node floor's req/s`));
  const cpuMean = (name: string): number => {
    const xs = cpu.get(name) ?? [];
    return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  };
  const cpuRatio = cpuMean(NODE_FLOOR) / cpuMean(IG);
  if (Number.isFinite(cpuRatio)) lines.push(`infergate (metrics) CPU per request = ${(1 / cpuRatio).toFixed(2)}x the Node floor's (the floor's req/s per core / infergate's = ${cpuRatio.toFixed(2)})`);
  if (loaded.has(IG_LOG)) {
    lines.push(`infergate (metrics + access log) = ${(mean(loaded.get(IG_LOG)!, 'rps') / ig).toFixed(2)}x metrics-only req/s (goal >= 0.9)`);
    lines.push(perRound(IG_LOG, IG, 0.9, 'infergate (metrics + access log) x metrics-only req/s'));
  }
  if (loaded.has(IG_BEFORE)) {
    lines.push(`infergate after/before = ${(ig / mean(loaded.get(IG_BEFORE)!, 'rps')).toFixed(2)}x req/s; added p50 at 1 connection ${f3(ig1)} ms after, ${f3(mean(single.get(IG_BEFORE)!, 'p50') - mean(direct1, 'p50'))} ms before`);
    lines.push(`infergate after/before per round: ${formatPairedRatio(pairedRatio(rps(IG), rps(IG_BEFORE)))}`);
  }
  return lines.join('\n');
}

await main();
