/**
 * Does KV-event ingestion add to request latency (issue #14, part 3)? One `infergate serve` with the precise prefix
 * plugins over N endpoints (nginx answering a fixed completion), one KV-event publisher per endpoint streaming
 * BlockStored/BlockRemoved at a fixed total rate, and wrk's closed loop through the gateway, alternating rounds
 * with the events off and on (A B A B ...) in one run. A program, not a test: prints figures.
 *
 *   npx tsc -p . && node dist/bench/kv-events-load.js [--endpoints 8] [--rate 100000] [--seconds 10] [--rounds 2] [--connections 8]
 *     [--ingestion both|worker|in-thread]
 *
 * `--rate` is BlockStored blocks per second over all publishers; each message also removes as many blocks stored
 * earlier, so the index stays the same size and the gateway applies twice that many block events. Each request is
 * a completion whose prompt is 1,024 token ids (64 blocks): no tokenizer call, one key derivation and one index
 * lookup per request, the first endpoint holding all 64 blocks and the others the first 32.
 *
 * `--ingestion both` (the default) compares where the gateway ingests (`--kv-events-ingestion`): each round starts
 * one gateway per mode in turn (in-thread, then worker), so the modes alternate in one run on the same machine.
 * "request-thread CPU" is the gateway's main thread alone (/proc/PID/task/PID/stat); "process CPU" adds the worker.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/bench-args.js';
import { baseModelRouteYaml, podYaml, poolYaml } from '../src/config/manifests.js';
import { encodeKvEventBatch, type BlockStoredEvent, type KvCacheEvent } from '../src/kvevents/wire-format.js';
import { seededRandom } from '../src/seeded-random.js';
import { KvTestPublisher } from '../test/helpers/kv-test-publisher.js';
import { startFixedUpstream } from './scenarios/lib/fixed-upstream.js';
import { cpuMs, CLI, startNode, stopAll, waitForUrl } from './scenarios/lib/processes.js';
import { wrkLoad } from './scenarios/lib/wrk-load.js';
import type { LoadResult } from './scenarios/lib/closed-loop.js';

const { values } = benchArgs({
  options: {
    endpoints: { type: 'string', default: '8' },
    rate: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '8' },
    publish: { type: 'boolean', default: false },
    ingestion: { type: 'string', default: 'both' },
  },
});
const ENDPOINTS = Math.min(200, Math.max(1, Number(values.endpoints)));
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const ROUNDS = Math.min(10, Math.max(1, Number(values.rounds)));
const CONNECTIONS = Number(values.connections);
type Mode = 'in-thread' | 'worker';
const MODES: Mode[] = values.ingestion === 'both' ? ['in-thread', 'worker'] : values.ingestion === 'worker' || values.ingestion === 'in-thread' ? [values.ingestion] : [];
if (MODES.length === 0 && !values.publish) throw new Error(`--ingestion must be both, worker or in-thread, got ${values.ingestion}`);
const MODEL = 'bench/kv-model';
const BS = 16;
/** Blocks a message stores (and removes): 32 per engine step, about what a busy vLLM step fills at batch size 8-32. */
const BLOCKS_PER_MESSAGE = 32;
/** Messages in a publisher's ring; the second half of the ring's blocks are held at any time. */
const RING = 64;
const PROMPT_BLOCKS = 64;
const HTTP_PORT = 18700;
const PUB_PORT = 5557;
const REPLAY_PORT = 5559;
const GATEWAY = { host: '127.0.116.1', port: 18701, admin: 18702 };
/** Endpoint i: 127.0.114.(i+1), then 127.0.115.(i-252) past 253. */
const hostOf = (i: number): string => (i < 253 ? `127.0.114.${i + 1}` : `127.0.115.${i - 252}`);
/** The publisher paces itself in ticks of this length. */
const TICK_MS = 10;

const rand = seededRandom(1405);
const tokens = (n: number): number[] => Array.from({ length: n }, () => 1 + Math.floor(rand() * 60_000));
/** The tokens every request sends, stored by every publisher at start (the first endpoint all of it). */
const PROMPT = Array.from({ length: PROMPT_BLOCKS * BS }, (_, i) => 100 + ((i * 7919) % 50_000));

function stored(hashes: bigint[], tokenIds: number[]): BlockStoredEvent {
  return { type: 'BlockStored', blockHashes: hashes, parentBlockHash: null, tokenIds, blockSize: BS, loraId: null, medium: 'GPU', loraName: null, extraKeys: null, groupIdx: null, kvCacheSpecKind: null, kvCacheSpecSlidingWindow: null };
}

// ---------------------------------------------------------------- the publisher process
/** IPC from the bench to its publisher process. */
type PublisherCommand = { cmd: 'prompt' } | { cmd: 'on' } | { cmd: 'off' } | { cmd: 'exit' };
/** IPC back: ready, or the blocks sent while on. */
type PublisherReport = { kind: 'ready' } | { kind: 'sent'; messages: number; blocks: number; seconds: number };

async function publisherMain(): Promise<void> {
  const pubs = await Promise.all(Array.from({ length: ENDPOINTS }, (_, i) => KvTestPublisher.start(hostOf(i), PUB_PORT, REPLAY_PORT, MODEL)));
  // A short replay buffer: each gateway started later replays a few hundred batches, not the whole run so far.
  for (const p of pubs) p.maxBuffered = 256;
  // Each ring message stores its blocks and removes those stored half a ring before: pre-encoded, so sending costs little.
  let nextHash = 1n << 40n;
  const rings = pubs.map(() => {
    const hashes = Array.from({ length: RING }, () => Array.from({ length: BLOCKS_PER_MESSAGE }, () => nextHash++));
    return hashes.map((h, j) => {
      const events: KvCacheEvent[] = [stored(h, tokens(BLOCKS_PER_MESSAGE * BS)), { type: 'BlockRemoved', blockHashes: hashes[(j + RING / 2) % RING]!, medium: 'GPU', groupIdx: null }];
      return encodeKvEventBatch({ ts: 0, events, dataParallelRank: null });
    });
  });
  // The prompt's blocks: everything on endpoint 0, the first half elsewhere. Sent live once the gateway listens (a
  // replay carries no topic, hence no model: the gateway skips a replayed store until a live message named it).
  const publishPrompt = async (): Promise<void> => {
    for (const [i, p] of pubs.entries()) {
      const n = i === 0 ? PROMPT_BLOCKS : PROMPT_BLOCKS / 2;
      await p.publish([stored(Array.from({ length: n }, () => nextHash++), PROMPT.slice(0, n * BS))]);
    }
  };
  let on = false;
  let sent = { messages: 0, blocks: 0, since: 0 };
  const cursor = pubs.map(() => 0);
  const perTick = (RATE / BLOCKS_PER_MESSAGE / ENDPOINTS) * (TICK_MS / 1000);
  let owed = 0;
  const tick = async (): Promise<void> => {
    if (!on) return;
    // Whole messages per publisher per tick; the fraction carries over, so the mean rate is exact.
    owed += perTick;
    const n = Math.floor(owed);
    owed -= n;
    await Promise.all(
      pubs.map(async (p, i) => {
        for (let k = 0; k < n; k++) {
          await p.publishPayload(rings[i]![cursor[i]!]!);
          cursor[i] = (cursor[i]! + 1) % RING;
        }
      }),
    );
    sent.messages += n * ENDPOINTS;
    sent.blocks += n * ENDPOINTS * BLOCKS_PER_MESSAGE * 2;
  };
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return; // behind: the next tick owes more
    busy = true;
    void tick().finally(() => (busy = false));
  }, TICK_MS);
  const send = (r: PublisherReport): void => void process.send?.(r);
  process.on('message', (m: PublisherCommand) => {
    if (m.cmd === 'prompt') void publishPrompt().then(() => send({ kind: 'ready' }));
    else if (m.cmd === 'on') {
      on = true;
      sent = { messages: 0, blocks: 0, since: performance.now() };
    } else if (m.cmd === 'off') {
      on = false;
      send({ kind: 'sent', messages: sent.messages, blocks: sent.blocks, seconds: (performance.now() - sent.since) / 1000 });
    } else {
      clearInterval(timer);
      void Promise.all(pubs.map((p) => p.close())).finally(() => process.exit(0));
    }
  });
  send({ kind: 'ready' });
}

// ---------------------------------------------------------------- the bench
const EPP_CONFIG = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: token-producer
- type: precise-prefix-cache-producer
  parameters:
    tokenProcessorConfig:
      blockSize: ${BS}
    kvEventsConfig:
      podDiscoveryConfig:
        socketPort: ${PUB_PORT}
        replaySocketPort: ${REPLAY_PORT}
- type: prefix-cache-scorer
  parameters:
    prefixMatchInfoProducerName: precise-prefix-cache-producer
- type: queue-scorer
- type: max-score-picker
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: prefix-cache-scorer
    weight: 2
  - pluginRef: queue-scorer
    weight: 1
`;

/** Sums of the gateway's KV-event counters, from its admin port's /metrics. */
async function kvCounters(): Promise<{ messages: number; admissions: number; subscribers: number; lookups: number; hits: number; problems: Record<string, number>; untrusted: number }> {
  const text = await (await fetch(`http://${GATEWAY.host}:${GATEWAY.admin}/metrics`)).text();
  const sum = (name: string): number => text.split('\n').filter((l) => l.startsWith(name)).reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  const problems: Record<string, number> = {};
  for (const l of text.split('\n')) {
    const m = /^infergate_kv_events_problems_total\{.*problem="([^"]+)".*\} (\S+)$/.exec(l);
    if (m) problems[m[1]!] = (problems[m[1]!] ?? 0) + Number(m[2]);
  }
  return { messages: sum('llm_d_epp_kv_cache_events_messages_received_total{'), admissions: sum('llm_d_epp_kv_cache_index_admissions_total'), problems, untrusted: sum('infergate_kv_events_pod_untrusted{'), subscribers: sum('llm_d_epp_kv_cache_events_active_subscribers'), lookups: sum('llm_d_epp_kv_cache_index_lookup_requests_total'), hits: sum('llm_d_epp_kv_cache_index_lookup_hits_total') };
}

function request(child: ChildProcess, cmd: PublisherCommand): Promise<PublisherReport> {
  return new Promise((resolve) => {
    child.once('message', (m: PublisherReport) => resolve(m));
    child.send(cmd);
  });
}

/** CPU ms of the process's main thread (the request thread): /proc/PID/task/PID/stat. */
function mainThreadCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const f = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}

interface Phase {
  mode: Mode;
  events: boolean;
  load: LoadResult;
  cpuPct: number;
  mainCpuPct: number;
  sentBlocksPerSec: number;
  ingestedBlocksPerSec: number;
  storedBlocksPerSec: number;
  publisherCpuPct: number;
}

interface Idle {
  mode: Mode;
  /** No events, no requests. */
  baseCpuPct: number;
  baseMainCpuPct: number;
  cpuPct: number;
  mainCpuPct: number;
  blocksPerSec: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One gateway in `mode`: set up, ingestion alone, then a load round with the events off and one with them on. */
async function session(mode: Mode, dir: string, eppFile: string, publisher: ChildProcess, round: number, phases: Phase[], idles: Idle[]): Promise<void> {
  const gw = startNode(CLI, ['serve', '-f', dir, '--epp-config', eppFile, '--host', GATEWAY.host, '--port', String(GATEWAY.port), '--admin-host', GATEWAY.host, '--admin-port', String(GATEWAY.admin), '--log-level', 'warn', '--kv-events-ingestion', mode]);
  try {
    const origin = `http://${GATEWAY.host}:${GATEWAY.port}`;
    await waitForUrl(`${origin}/readyz`);
    // Every subscription connected, then the prompt's blocks in the index.
    let until = Date.now() + 20_000;
    while ((await kvCounters()).subscribers < ENDPOINTS && Date.now() < until) await sleep(200);
    await sleep(1000); // the SUB sockets' subscriptions reach the publishers
    // A gateway started after an earlier one replays the publishers' buffers first: the prompt goes after that.
    let admitted = -1;
    until = Date.now() + 30_000;
    for (let now = (await kvCounters()).admissions; now !== admitted && Date.now() < until; now = (await kvCounters()).admissions) {
      admitted = now;
      await sleep(1000);
    }
    await request(publisher, { cmd: 'prompt' });
    until = Date.now() + 20_000;
    while ((await kvCounters()).admissions < admitted + PROMPT_BLOCKS + (ENDPOINTS - 1) * (PROMPT_BLOCKS / 2) && Date.now() < until) await sleep(200);
    const body = JSON.stringify({ model: MODEL, prompt: PROMPT, max_tokens: 1 });
    const load = (seconds: number): Promise<LoadResult> => wrkLoad({ origin, target: 'gateway', seconds, connections: CONNECTIONS, path: '/v1/completions', body });
    await load(3); // warm-up: JIT, connection pools
    // The gateway's own background work (scrapes, model lists), then what ingestion adds: the stream on, no requests.
    await sleep(1000);
    const base0 = { cpu: cpuMs(gw.pid), main: mainThreadCpuMs(gw.pid), t: performance.now() };
    await sleep(SECONDS * 300);
    const base1 = { cpu: cpuMs(gw.pid), main: mainThreadCpuMs(gw.pid), t: performance.now() };
    publisher.send({ cmd: 'on' } satisfies PublisherCommand);
    await sleep(1000);
    const idle0 = { cpu: cpuMs(gw.pid), main: mainThreadCpuMs(gw.pid), c: await kvCounters(), t: performance.now() };
    await sleep(SECONDS * 500);
    const idle1 = { cpu: cpuMs(gw.pid), main: mainThreadCpuMs(gw.pid), c: await kvCounters(), t: performance.now() };
    await request(publisher, { cmd: 'off' });
    await sleep(1000);
    const idleMs = idle1.t - idle0.t;
    const baseMs = base1.t - base0.t;
    const idle: Idle = {
      mode,
      baseCpuPct: (((base1.cpu ?? NaN) - (base0.cpu ?? NaN)) / baseMs) * 100,
      baseMainCpuPct: (((base1.main ?? NaN) - (base0.main ?? NaN)) / baseMs) * 100,
      cpuPct: (((idle1.cpu ?? NaN) - (idle0.cpu ?? NaN)) / idleMs) * 100,
      mainCpuPct: (((idle1.main ?? NaN) - (idle0.main ?? NaN)) / idleMs) * 100,
      blocksPerSec: ((idle1.c.messages - idle0.c.messages) * BLOCKS_PER_MESSAGE * 2) / (idleMs / 1000),
    };
    idles.push(idle);
    console.log(`  [${mode.padEnd(9)}] no requests: events off: request-thread CPU ${idle.baseMainCpuPct.toFixed(1)}%, process CPU ${idle.baseCpuPct.toFixed(1)}%; events on: request-thread CPU ${idle.mainCpuPct.toFixed(1)}%, process CPU ${idle.cpuPct.toFixed(1)}%, ingested ${Math.round(idle.blocksPerSec).toLocaleString('en')} blocks/s`);
    for (const events of [false, true]) {
      process.stderr.write(`round ${round}: ${mode}, events ${events ? 'on' : 'off'}...\n`);
      if (events) {
        publisher.send({ cmd: 'on' } satisfies PublisherCommand);
        await sleep(1000); // the stream at its rate before measuring
      }
      const c0 = await kvCounters();
      const cpu0 = cpuMs(gw.pid);
      const main0 = mainThreadCpuMs(gw.pid);
      const pub0 = cpuMs(publisher.pid) ?? 0;
      const t0 = performance.now();
      const result = await load(SECONDS);
      const wall = performance.now() - t0;
      const cpu1 = cpuMs(gw.pid);
      const main1 = mainThreadCpuMs(gw.pid);
      const pub1 = cpuMs(publisher.pid) ?? 0;
      const c1 = await kvCounters();
      let sentBlocksPerSec = 0;
      if (events) {
        const rep = await request(publisher, { cmd: 'off' });
        if (rep.kind === 'sent') sentBlocksPerSec = rep.blocks / rep.seconds;
        await sleep(1000); // the gateway drains what is queued
      }
      const secs = wall / 1000;
      const msgs = c1.messages - c0.messages;
      const p: Phase = {
        mode,
        events,
        load: result,
        cpuPct: cpu0 === null || cpu1 === null ? NaN : ((cpu1 - cpu0) / wall) * 100,
        mainCpuPct: main0 === null || main1 === null ? NaN : ((main1 - main0) / wall) * 100,
        sentBlocksPerSec,
        ingestedBlocksPerSec: (msgs * BLOCKS_PER_MESSAGE * 2) / secs,
        storedBlocksPerSec: (c1.admissions - c0.admissions) / secs,
        publisherCpuPct: ((pub1 - pub0) / wall) * 100,
      };
      phases.push(p);
      console.log(
        `  [${mode.padEnd(9)}] ${events ? 'events on ' : 'events off'}  ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${result.p50.toFixed(2)} ms  p90 ${result.p90.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms  errors ${result.errors}` +
          `  request-thread CPU ${p.mainCpuPct.toFixed(0)}%  process CPU ${p.cpuPct.toFixed(0)}%  ingested ${Math.round(p.ingestedBlocksPerSec).toLocaleString('en')} blocks/s (stored ${Math.round(p.storedBlocksPerSec).toLocaleString('en')}/s; sent ${Math.round(sentBlocksPerSec).toLocaleString('en')}/s)`,
      );
    }
    const end = await kvCounters();
    console.log(`  [${mode.padEnd(9)}] index lookups ${end.lookups.toLocaleString('en')}, ${(end.hits / Math.max(1, end.lookups)).toFixed(1)} blocks matched per lookup (the prompt has ${PROMPT_BLOCKS}); KV-event problems ${JSON.stringify(end.problems)}; pods untrusted at the end: ${end.untrusted}`);
  } finally {
    if (gw.exitCode === null && gw.signalCode === null) {
      const exited = new Promise<void>((r) => gw.once('exit', () => r()));
      gw.kill('SIGTERM');
      const timer = setTimeout(() => gw.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  }
}

async function main(): Promise<void> {
  console.log(`kv-events-load: ${ENDPOINTS} endpoints, events at ${RATE.toLocaleString('en')} stored blocks/s (+ as many removed), wrk -c${CONNECTIONS} ${SECONDS}s x ${ROUNDS} rounds, ingestion ${MODES.join(' vs ')}; node ${process.version}, ${cpus()[0]?.model ?? '?'} x${cpus().length}, load ${loadavg()[0]?.toFixed(2)}`);
  const dir = await mkdtemp(join(tmpdir(), 'infergate-kv-load-'));
  const pods = Array.from({ length: ENDPOINTS }, (_, i) => podYaml(`pod-${i}`, hostOf(i), { app: 'kv' }));
  await writeFile(join(dir, 'fleet.yaml'), [...pods, poolYaml('kv', { app: 'kv' }, HTTP_PORT), baseModelRouteYaml('kv', MODEL, [['kv', 1]])].join('---\n'));
  const eppFile = join(dir, '..', `${dir.split('/').pop()}-epp.yaml`);
  await writeFile(eppFile, EPP_CONFIG);
  for (let i = 0; i < ENDPOINTS; i++) startFixedUpstream(`${hostOf(i)}:${HTTP_PORT}`, MODEL, false);
  const publisher = fork(fileURLToPath(import.meta.url), ['--publish', '--endpoints', String(ENDPOINTS), '--rate', String(RATE)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    await Promise.all(Array.from({ length: ENDPOINTS }, (_, i) => waitForUrl(`http://${hostOf(i)}:${HTTP_PORT}/health`)));
    await new Promise<void>((resolve) => publisher.once('message', () => resolve()));
    const phases: Phase[] = [];
    const idles: Idle[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      // A B, then B A: neither mode always runs first in a round.
      const order = r % 2 === 1 ? MODES : [...MODES].reverse();
      for (const mode of order) await session(mode, dir, eppFile, publisher, r, phases, idles);
    }
    const mean = <T>(xs: T[], f: (p: T) => number): number => xs.reduce((s, x) => s + f(x), 0) / xs.length;
    console.log('\nmeans over rounds:');
    for (const mode of MODES) {
      const id = idles.filter((i) => i.mode === mode);
      console.log(`  ${mode.padEnd(9)} no requests: events off: request-thread CPU ${mean(id, (i) => i.baseMainCpuPct).toFixed(1)}%, process CPU ${mean(id, (i) => i.baseCpuPct).toFixed(1)}%; events on: request-thread CPU ${mean(id, (i) => i.mainCpuPct).toFixed(1)}%, process CPU ${mean(id, (i) => i.cpuPct).toFixed(1)}%, ingested ${Math.round(mean(id, (i) => i.blocksPerSec)).toLocaleString('en')} blocks/s`);
      for (const events of [false, true]) {
        const xs = phases.filter((p) => p.mode === mode && p.events === events);
        console.log(
          `  ${mode.padEnd(9)} events ${events ? 'on ' : 'off'}: ${mean(xs, (p) => p.load.rps).toFixed(0)} req/s  p50 ${mean(xs, (p) => p.load.p50).toFixed(2)} ms  p99 ${mean(xs, (p) => p.load.p99).toFixed(2)} ms  request-thread CPU ${mean(xs, (p) => p.mainCpuPct).toFixed(0)}%  process CPU ${mean(xs, (p) => p.cpuPct).toFixed(0)}%` +
            (events ? `  ingested ${Math.round(mean(xs, (p) => p.ingestedBlocksPerSec)).toLocaleString('en')} blocks/s` : ''),
        );
      }
    }
    if (MODES.length === 2) {
      const on = (m: Mode): Phase[] => phases.filter((p) => p.mode === m && p.events);
      const ratio = (f: (p: Phase) => number): string => (mean(on('worker'), f) / mean(on('in-thread'), f)).toFixed(2);
      console.log(`worker / in-thread with events on: throughput x${ratio((p) => p.load.rps)}, p50 x${ratio((p) => p.load.p50)}, p99 x${ratio((p) => p.load.p99)}, request-thread CPU x${ratio((p) => p.mainCpuPct)}`);
    }
    console.log(`publisher process CPU while on: ${mean(phases.filter((p) => p.events), (p) => p.publisherCpuPct).toFixed(0)}%`);
  } finally {
    publisher.send({ cmd: 'exit' });
    await sleep(300);
    if (publisher.exitCode === null) publisher.kill();
    await stopAll();
  }
}

if (values.publish) void publisherMain();
else
  void main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
