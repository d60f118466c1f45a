/**
 * Soak under abuse (issue #10): a live gateway (its own process) in front of one simulated pod takes, for a
 * bounded time, three mixes at once: normal clients, a fuzzer (malformed, deep, huge, spoofed, admin-path
 * and protocol-breaking requests) and slow clients that trickle their bodies. Every interval it prints the
 * gateway's RSS, `/healthz` latency and what each mix saw, then a summary. A program, not a test: it prints.
 *
 *   npm run build && node dist/bench/soak.js [--seconds 60] [--interval 5] [--clients 4] [--fuzz-rate 200] [--slow 300] [--gateway-args '--request-body-timeout 10s']
 */
import { connect, type Socket } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from './lib/bench-args.js';
import { Pool } from 'undici';
import { baseModelRouteYaml, podYaml, poolYaml, prefixRouteYaml } from '../src/config/manifests.js';
import { CLI, rssMiB, startNode, stopAll, waitForUrl } from './scenarios/lib/processes.js';
import { seededRandom } from '../src/seeded-random.js';

const { values } = benchArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    interval: { type: 'string', default: '5' },
    clients: { type: 'string', default: '4' },
    'fuzz-rate': { type: 'string', default: '200' },
    slow: { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
    'gateway-args': { type: 'string', default: '' },
  },
});
const SECONDS = Number(values.seconds);
const INTERVAL_S = Number(values.interval);
const CLIENTS = Number(values.clients);
const FUZZ_RATE = Number(values['fuzz-rate']);
const SLOW = Number(values.slow);
const HOST = '127.0.48.1';
const GW_PORT = 18701;
const POD = { ip: '127.0.48.2', port: 18700 };
const MODEL = 'soak/model';

/** Counters of one interval; `total` keeps the whole run. */
interface Tally {
  normalOk: number;
  normalFail: number;
  fuzzByStatus: Map<string, number>;
  slowCut: number;
  slowOpened: number;
  healthz: number[];
}

const newTally = (): Tally => ({ normalOk: 0, normalFail: 0, fuzzByStatus: new Map(), slowCut: 0, slowOpened: 0, healthz: [] });
let interval = newTally();
const total = newTally();
const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

/** One fuzz case: raw bytes written to a fresh connection (so protocol errors cannot poison a shared one). */
function fuzzCase(r: () => number): string {
  const chat = (body: string, path = '/v1/chat/completions', extra = ''): string => `POST ${path} HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n${body}`;
  const depth = 1 + Math.floor(r() * 20_000);
  const cases: (() => string)[] = [
    () => chat(`{"model":"${MODEL}","messages":${'['.repeat(depth)}${']'.repeat(depth)}}`),
    () => chat(`{"model":"${MODEL}","messages":[{"role":"user","content":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}]}`),
    () => chat(`{"model":"${MODEL}","messages":[${'{"role":"user","content":"x"},'.repeat(Math.floor(r() * 3000))}{"role":"user","content":"x"}]}`),
    () => chat(Buffer.from(Array.from({ length: 64 + Math.floor(r() * 512) }, () => Math.floor(r() * 256))).toString('latin1')),
    () => chat(`{"model":"${MODEL}","messages":[{"role":"user","content":"${'x'.repeat(Math.floor(r() * 200))}`),
    () => chat(`{"model":${JSON.stringify(['x', 1, null, {}, [], '  ', ''][Math.floor(r() * 7)])},"prompt":"hi"}`),
    () => chat(`{"model":"nope-${Math.floor(r() * 1e6)}","prompt":"hi"}`),
    () => chat(`{"model":"${MODEL}","prompt":"hi","max_tokens":1}`, '/v1/completions', 'x-gateway-destination-endpoint: 127.0.0.1:22\r\nx-gateway-base-model-name: other\r\n'),
    () => chat('{"lora_name":"x","lora_path":"https://attacker.example/a"}', ['/v1/load_lora_adapter', '/v1/%2e%2e/sleep', '//reset_prefix_cache', '/v1/../collective_rpc'][Math.floor(r() * 4)]),
    () => `POST /v1/completions HTTP/1.1\r\nhost: gw\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!`,
    () => `POST /v1/completions HTTP/1.1\r\nhost: gw\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`,
    () => `GET /v1/models HTTP/1.1\r\nhost: gw\r\nx-big: ${'a'.repeat(70_000)}\r\n\r\n`,
    () => `BREW /v1/models HTTP/1.1\r\nhost: gw\r\n\r\n`,
    () => `GET /v1/models HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n`,
  ];
  return cases[Math.floor(r() * cases.length)]!();
}

/** Writes one raw request, reads the status line, and counts it (or how the connection failed). */
function sendRaw(text: string): Promise<void> {
  return new Promise((resolve) => {
    const sock = connect({ host: HOST, port: GW_PORT });
    let head = '';
    let finished = false;
    const done = (key: string): void => {
      if (finished) return;
      finished = true;
      bump(interval.fuzzByStatus, key);
      bump(total.fuzzByStatus, key);
      sock.destroy();
      resolve();
    };
    sock.setTimeout(30_000, () => done('no answer in 30 s'));
    sock.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (m) done(m[1]!);
    });
    sock.on('error', (e: Error & { code?: string }) => done(e.code ?? 'error'));
    sock.on('close', () => done('closed without an answer'));
    sock.write(text);
  });
}

/** Normal clients: chat completions in a closed loop, streamed and not, on keep-alive connections. */
async function normalClients(pool: Pool, end: number): Promise<void> {
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; i < 10_000_000 && Date.now() < end; i++) {
      const stream = (i + w) % 2 === 0;
      const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: `hello ${w}-${i}` }], max_tokens: 8, stream });
      try {
        const res = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body, headersTimeout: 30_000, bodyTimeout: 30_000 });
        await res.body.text();
        const ok = res.statusCode === 200;
        interval[ok ? 'normalOk' : 'normalFail']++;
        total[ok ? 'normalOk' : 'normalFail']++;
      } catch {
        interval.normalFail++;
        total.normalFail++;
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, w) => worker(w)));
}

/** The fuzzer: `FUZZ_RATE` cases a second, at most 64 open at once. */
async function fuzzer(end: number): Promise<void> {
  // Seeded, so two runs send the same fuzz.
  const r = seededRandom(Number(values.seed));
  const open = new Set<Promise<void>>();
  const gap = 1000 / FUZZ_RATE;
  for (let n = 0; n < 10_000_000 && Date.now() < end; n++) {
    if (open.size >= 64) await Promise.race(open);
    const p = sendRaw(fuzzCase(r)).finally(() => open.delete(p));
    open.add(p);
    await new Promise((res) => setTimeout(res, gap));
  }
  await Promise.all(open);
}

/**
 * Slow clients: `SLOW` connections, each declaring a 100 KB body and sending one byte (of valid JSON) a second. A connection
 * the gateway cuts (or answers) is counted and opened again, so the pressure holds for the whole run.
 */
async function slowClients(end: number): Promise<void> {
  const sockets = new Set<Socket>();
  let stopping = false;
  const openOne = (): void => {
    if (Date.now() >= end) return;
    interval.slowOpened++;
    total.slowOpened++;
    const sock = connect({ host: HOST, port: GW_PORT });
    sockets.add(sock);
    // Whitespace keeps the body valid JSON so far: only the body timeout, not the parser, can end it.
    const timer = setInterval(() => sock.write(' '), 1000);
    let counted = false;
    const cut = (): void => {
      clearInterval(timer);
      sockets.delete(sock);
      if (counted || stopping) return;
      counted = true;
      interval.slowCut++;
      total.slowCut++;
      sock.destroy();
      // Reopen a little later, as a patient attacker would.
      setTimeout(openOne, 200);
    };
    sock.on('data', cut);
    sock.on('close', cut);
    sock.on('error', cut);
    sock.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"model":"${MODEL}","messages":`);
  };
  for (let i = 0; i < SLOW; i++) openOne();
  await new Promise((res) => setTimeout(res, Math.max(0, end - Date.now())));
  stopping = true;
  for (const s of sockets) s.destroy();
}

/** `/healthz` five times a second on a fresh connection each (what a kubelet probe does). */
async function probe(end: number): Promise<void> {
  for (let n = 0; n < 10_000_000 && Date.now() < end; n++) {
    const t0 = performance.now();
    try {
      const res = await fetch(`http://${HOST}:${GW_PORT}/healthz`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(30_000) });
      await res.text();
    } catch {
      // A failed probe counts at its full wait.
    }
    const ms = performance.now() - t0;
    interval.healthz.push(ms);
    total.healthz.push(ms);
    await new Promise((res) => setTimeout(res, 200));
  }
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

const fmtStatuses = (m: Map<string, number>): string => [...m].sort().map(([k, v]) => `${k}:${v}`).join(' ');

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-soak-'));
  await writeFile(join(dir, 'fleet.yaml'), [podYaml('pod-0', POD.ip, { app: 'soak' }), poolYaml('soak', { app: 'soak' }, POD.port), baseModelRouteYaml('soak', MODEL, [['soak', 1]]), prefixRouteYaml('rest', '/', 'soak')].join('---\n'));
  try {
    startNode(CLI, ['sim', '--model', MODEL, '--host', POD.ip, '--port', String(POD.port), '--ttft', '5', '--itl', '2', '--max-num-seqs', '256']);
    await waitForUrl(`http://${POD.ip}:${POD.port}/health`);
    const extra = (values['gateway-args'] ?? '').split(' ').filter(Boolean);
    const gw = startNode(CLI, ['serve', '-f', dir, '--host', HOST, '--port', String(GW_PORT), '--admin-port', '0', '--log-level', 'error', ...extra]);
    await waitForUrl(`http://${HOST}:${GW_PORT}/readyz`);
    console.log(`soak: ${SECONDS} s; ${CLIENTS} normal clients, fuzz ${FUZZ_RATE}/s, ${SLOW} slow-body connections; gateway pid ${gw.pid}${extra.length ? ` (${extra.join(' ')})` : ''}`);
    console.log(`gateway RSS at start: ${rssMiB(gw.pid)?.toFixed(0)} MiB`);
    console.log('| t (s) | RSS MiB | /healthz p50 / p99 / max ms | normal ok / fail | slow cut / opened | fuzz answers by status |');
    console.log('|---:|---:|---|---|---|---|');
    const t0 = Date.now();
    const end = t0 + SECONDS * 1000;
    const pool = new Pool(`http://${HOST}:${GW_PORT}`, { connections: CLIENTS });
    let peakRss = 0;
    const report = setInterval(() => {
      const rss = rssMiB(gw.pid) ?? NaN;
      peakRss = Math.max(peakRss, rss);
      const h = interval.healthz;
      console.log(`| ${((Date.now() - t0) / 1000).toFixed(0)} | ${rss.toFixed(0)} | ${pct(h, 50).toFixed(1)} / ${pct(h, 99).toFixed(1)} / ${(h.length > 0 ? Math.max(...h) : NaN).toFixed(1)} | ${interval.normalOk} / ${interval.normalFail} | ${interval.slowCut} / ${interval.slowOpened} | ${fmtStatuses(interval.fuzzByStatus)} |`);
      interval = newTally();
    }, INTERVAL_S * 1000);
    await Promise.all([normalClients(pool, end), fuzzer(end), slowClients(end), probe(end)]);
    clearInterval(report);
    await pool.close();
    const h = total.healthz;
    console.log(`\nsummary: RSS peak ${peakRss.toFixed(0)} MiB, at end ${rssMiB(gw.pid)?.toFixed(0)} MiB; /healthz n=${h.length} p50 ${pct(h, 50).toFixed(1)} ms, p99 ${pct(h, 99).toFixed(1)} ms, max ${Math.max(...h).toFixed(1)} ms`);
    console.log(`normal requests: ${total.normalOk} ok, ${total.normalFail} failed; slow connections: ${total.slowOpened} opened, ${total.slowCut} cut by the gateway`);
    console.log(`fuzz answers: ${fmtStatuses(total.fuzzByStatus)}`);
    console.log(`gateway still running: ${gw.exitCode === null && gw.signalCode === null ? 'yes' : `no (exit ${gw.exitCode ?? gw.signalCode})`}`);
  } finally {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch(async (e: unknown) => {
  console.error(e);
  await stopAll();
  process.exit(1);
});
