/**
 * Parse attack: what 16 concurrent worst-case request bodies cost a live gateway at its default limits
 * (--max-body-bytes, --max-json-depth, --max-json-values, --max-body-memory). For each body shape a fresh
 * `infergate serve` (its own process, so its RSS is its own) fronts one simulated pod; a child process of this
 * program (so its own work does not delay the probe) sends that body from 16 workers in a closed loop for a
 * bounded time, while this process times /healthz every 20 ms on its own connection and reads the gateway's
 * RSS every 100 ms. Prints one Markdown row per shape: answers, /healthz p50/p99/max, peak RSS.
 *
 * The pod (--pod drain, the default) reads each body whole and answers 200 at once, as a model server that
 * rejects it would, only faster: the loop runs as fast as the gateway allows. --pod sim puts `infergate sim`
 * there instead, which parses each body too (send to --path /v1/completions). The attacker and the pod run at
 * low priority, so that on a small machine their CPU does not stand in for the gateway's. Loopback only: the
 * gateway on 127.0.65.1, the pod on 127.0.65.2.
 *
 *   npx tsc -p . && node dist/bench/parse-attack.js [--seconds 8] [--concurrency 16] [--shapes deepest,mix] [--pod drain|sim] [--path /v1/completions]
 *     [--max-json-depth N --max-json-values N --max-body-memory BYTES (the limits to shape bodies for and run at; default: the gateway's)] [--gateway-args="--flag value"]
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { benchArgs } from './lib/bench-args.js';
import { Agent, Client, request } from 'undici';
import { DEFAULT_JSON_LIMITS } from '../src/bbr/json-limits.js';
import { podYaml, poolYaml, prefixRouteYaml } from '../src/config/manifests.js';
import { DEFAULT_BODY_MEMORY_BYTES, DEFAULT_GATEWAY_OPTIONS } from '../src/proxy/gateway.js';
import { percentiles } from '../src/bench/percentiles.js';
import { CLI, rssMiB, start, stopAll, waitForUrl } from './scenarios/lib/processes.js';

const LOOP_DELAY_HOOK = fileURLToPath(new URL('./lib/loop-delay-hook.js', import.meta.url));

const { values } = benchArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '16' },
    shapes: { type: 'string', default: '' },
    path: { type: 'string', default: '/v1/completions' },
    pod: { type: 'string', default: 'drain' },
    port: { type: 'string', default: '18650' },
    'pod-port': { type: 'string', default: '18651' },
    'max-requests': { type: 'string', default: '20000' },
    'gateway-args': { type: 'string', default: '' },
    // The limits the bodies are shaped for, and given to the gateway (default: the gateway's defaults).
    'max-json-depth': { type: 'string', default: String(DEFAULT_JSON_LIMITS.maxDepth) },
    'max-json-values': { type: 'string', default: String(DEFAULT_JSON_LIMITS.maxValues) },
    'max-body-memory': { type: 'string', default: String(DEFAULT_BODY_MEMORY_BYTES) },
    // Internal: run as the attacking child for this shape, report over IPC; or as the draining pod.
    attack: { type: 'string' },
    'serve-pod': { type: 'boolean', default: false },
  },
});
const SECONDS = Math.min(60, Number(values.seconds));
const CONCURRENCY = Math.min(64, Number(values.concurrency));
const MAX_REQUESTS = Number(values['max-requests']);
const GATEWAY = `127.0.65.1:${values.port}`;
const POD = { host: '127.0.65.2', port: Number(values['pod-port']) };
const MODEL = 'attack/model';
const B = DEFAULT_GATEWAY_OPTIONS.maxBodyBytes;
const D = Number(values['max-json-depth']);
const V = Number(values['max-json-values']);
const LIMIT_ARGS = ['--max-json-depth', String(D), '--max-json-values', String(V), '--max-body-memory', values['max-body-memory']!];

/**
 * A body of exactly B bytes and at most V values: `items` copies of `item` (each `itemValues` values) in the
 * top-level array `key`, and a string member `pad` making up the bytes. The 8 values around the items:
 * the object, model and its value, pad and its value, key and its array.
 */
function atLimits(key: string, item: string, itemValues: number, model = MODEL): Buffer {
  const head = `{"model":${JSON.stringify(model)},"${key}":[`;
  const tail = '],"pad":"';
  const end = '"}';
  const byBytes = Math.floor((B - head.length - tail.length - end.length + 1) / (item.length + 1));
  const items = Math.min(Math.floor((V - 7) / itemValues), byBytes);
  const list = `${item},`.repeat(items - 1) + item;
  const pad = 'a'.repeat(B - head.length - list.length - tail.length - end.length);
  return Buffer.from(head + list + tail + pad + end);
}

/** One object of distinct keys, as many as the values allow, padded to B. */
function distinctKeys(): Buffer {
  const members: string[] = [];
  let bytes = 0;
  for (let i = 0; i < Math.floor((V - 8) / 2) && bytes < B - 200; i++) {
    const m = `"k${i}":0`;
    members.push(m);
    bytes += m.length + 1;
  }
  const head = `{"model":"${MODEL}","x":{`;
  const tail = '},"pad":"';
  const body = members.join(',');
  return Buffer.from(`${head}${body}${tail}${'a'.repeat(B - head.length - body.length - tail.length - 2)}"}`);
}

/** Objects of 100 keys each, no key used twice, as many as the values allow, padded to B. */
function uniqueKeys(): Buffer {
  const objects: string[] = [];
  let bytes = 0;
  const per = 100;
  for (let o = 0; o < Math.floor((V - 8) / (2 * per + 1)) && bytes < B - 4000; o++) {
    const members = Array.from({ length: per }, (_, i) => `"u${o * per + i}":0`).join(',');
    objects.push(`{${members}}`);
    bytes += members.length + 3;
  }
  const head = `{"model":"${MODEL}","x":[`;
  const tail = '],"pad":"';
  const body = objects.join(',');
  return Buffer.from(`${head}${body}${tail}${'a'.repeat(B - head.length - body.length - tail.length - 2)}"}`);
}

/** A chat request whose one message is B bytes of `unit` (repeated), e.g. non-ASCII text or escapes. */
function oneMessage(unit: string, model = MODEL): Buffer {
  const head = `{"model":${JSON.stringify(model)},"messages":[{"role":"user","content":"`;
  const end = '"}]}';
  const room = B - head.length - end.length;
  const unitBytes = Buffer.byteLength(unit);
  return Buffer.from(head + unit.repeat(Math.floor(room / unitBytes)) + end);
}

/** Many chat messages, as many as the values allow, their contents filling B. */
function manyMessages(model = MODEL): Buffer {
  const n = Math.floor((V - 7) / 5);
  const overhead = '{"role":"user","content":""},'.length;
  const content = 'w'.repeat(Math.max(1, Math.floor((B - 100) / n) - overhead));
  return atLimits('messages', `{"role":"user","content":"${content}"}`, 5, model);
}

const MIX = 'mix';
const IDLE = 'idle';

const SHAPES: Record<string, { what: string; body: () => Buffer }> = {
  'nested-16MiB': { what: `the issue's attack: 16 MiB of [ then ], nested ${(B / 2).toLocaleString('en')} deep (over the limit)`, body: () => Buffer.from(`{"model":"${MODEL}","messages":${'['.repeat(B / 2 - 20)}${']'.repeat(B / 2 - 20)}}`) },
  deepest: { what: `arrays nested ${D} deep (the limit), repeated up to ${V.toLocaleString('en')} values`, body: () => atLimits('messages', `${'['.repeat(D - 2)}${']'.repeat(D - 2)}`, D - 2) },
  ints: { what: `${V.toLocaleString('en')} small integers (token ids)`, body: () => atLimits('prompt', '7', 1) },
  doubles: { what: `${V.toLocaleString('en')} decimals (the slowest numbers to read)`, body: () => atLimits('prompt', '0.5', 1) },
  'empty-objects': { what: `${V.toLocaleString('en')} empty objects`, body: () => atLimits('messages', '{}', 1) },
  'distinct-keys': { what: `one object with ${Math.floor((V - 8) / 2).toLocaleString('en')} distinct keys`, body: distinctKeys },
  'unique-keys': { what: `objects of 100 keys, every key in the body distinct (a hidden class per key)`, body: uniqueKeys },
  'chat-messages': { what: `${Math.floor((V - 7) / 5).toLocaleString('en')} chat messages filling 16 MiB`, body: () => manyMessages() },
  'long-prompt': { what: 'one 16 MiB ASCII prompt', body: () => Buffer.from(`{"model":"${MODEL}","prompt":"${'a'.repeat(B - 40 - MODEL.length)}"}`) },
  'long-utf8': { what: 'one 16 MiB chat message of non-ASCII text', body: () => oneMessage('é中文😀') },
  escapes: { what: 'one 16 MiB chat message of escapes', body: () => oneMessage('\\n\\u00e9') },
  'trim-model': { what: 'chat messages filling 16 MiB, model " name " (the gateway rewrites the model)', body: () => manyMessages(` ${MODEL} `) },
};

interface Row {
  shape: string;
  what: string;
  bodyMiB: number;
  sent: number;
  answers: Map<string, number>;
  healthz: number[];
  healthzFailures: number;
  rss: number[];
  seconds: number;
  /** The gateway's own event-loop delay (ms), from bench/lib/loop-delay-hook.ts. */
  loop?: { p50: number; p99: number; max: number };
}

/** What the attacking child reports. */
interface AttackResult {
  sent: number;
  answers: [string, number][];
  /** The first body of each answer other than 200, to tell an expected 400 from a surprise. */
  samples: [string, string][];
  seconds: number;
}

function shapeNames(shape: string): string[] {
  return shape === MIX ? Object.keys(SHAPES).filter((s) => s !== 'nested-16MiB') : shape === IDLE ? [] : [shape];
}

/** The child: 16 workers (one shape each in the mix) sending their body in a closed loop until the deadline. */
async function attack(shape: string): Promise<AttackResult> {
  const bodies = shapeNames(shape).map((n) => SHAPES[n]!.body());
  const agent = new Agent({ connections: CONCURRENCY, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const answers = new Map<string, number>();
  const samples = new Map<string, string>();
  let sent = 0;
  const started = Date.now();
  const deadline = started + SECONDS * 1000;
  const worker = async (w: number): Promise<void> => {
    const body = bodies[w % bodies.length]!;
    while (Date.now() < deadline && sent < MAX_REQUESTS) {
      sent++;
      let answer: string;
      try {
        const r = await request(`http://${GATEWAY}${values.path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
        answer = String(r.statusCode);
        if (r.statusCode !== 200 && !samples.has(answer)) samples.set(answer, (await r.body.text()).slice(0, 300));
        else await r.body.dump();
      } catch (e) {
        answer = (e as { code?: string }).code ?? (e as Error).message;
      }
      answers.set(answer, (answers.get(answer) ?? 0) + 1);
    }
  };
  if (bodies.length === 0) await delay(SECONDS * 1000);
  else await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  await agent.close();
  return { sent, answers: [...answers], samples: [...samples], seconds: (Date.now() - started) / 1000 };
}

async function runShape(shape: string, dir: string): Promise<Row> {
  const names = shapeNames(shape);
  const loopFile = join(dir, `loop-${shape}.json`);
  const gw = start(process.execPath, ['--import', LOOP_DELAY_HOOK, CLI, 'serve', '-f', dir, '--host', '127.0.65.1', '--port', values.port!, '--admin-port', '0', '--log-level', 'error', '--shutdown-delay', '0', '--drain-timeout', '1s', ...LIMIT_ARGS, ...values['gateway-args']!.split(' ').filter(Boolean)], { LOOP_DELAY_FILE: loopFile });
  const origin = `http://${GATEWAY}`;
  const what = shape === MIX ? `each worker its own shape: ${names.join(', ')}` : shape === IDLE ? 'no load: the baseline' : SHAPES[shape]!.what;
  const row: Row = { shape, what, bodyMiB: 0, sent: 0, answers: new Map(), healthz: [], healthzFailures: 0, rss: [], seconds: 0 };
  const probe = new Client(origin, { headersTimeout: 60_000, bodyTimeout: 60_000 });
  try {
    await waitForUrl(`${origin}/readyz`);
    gw.kill('SIGUSR2');
    let running = true;
    const rssTimer = setInterval(() => {
      const m = rssMiB(gw.pid);
      if (m !== null) row.rss.push(m);
    }, 100);
    const sampler = (async () => {
      while (running) {
        const t0 = performance.now();
        try {
          const r = await probe.request({ method: 'GET', path: '/healthz' });
          await r.body.text();
          row.healthz.push(performance.now() - t0);
        } catch {
          row.healthzFailures++;
        }
        await delay(20);
      }
    })();
    // The attacker and the pod run at low priority: on a small machine their CPU would otherwise delay the
    // gateway, where in a real deployment they run elsewhere.
    const child = fork(process.argv[1]!, [...process.argv.slice(2), '--attack', shape], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execPath: 'nice', execArgv: ['-n', '19', process.execPath] });
    const result = await new Promise<AttackResult>((resolve, reject) => {
      child.once('message', (m) => resolve(m as AttackResult));
      child.once('exit', (code) => reject(new Error(`the attacking process exited with ${code}`)));
    });
    running = false;
    await sampler;
    clearInterval(rssTimer);
    Object.assign(row, { sent: result.sent, answers: new Map(result.answers), seconds: result.seconds });
    for (const [status, body] of result.samples) process.stderr.write(`${shape}: first ${status} answer: ${body}\n`);
    row.bodyMiB = Math.max(0, ...names.map((n) => SHAPES[n]!.body().length)) / 1048576;
  } finally {
    await probe.close().catch(() => undefined);
    // SIGKILL after SIGTERM's shutdown window: the hook writes its figures on a normal exit.
    gw.kill('SIGINT');
    const killer = setTimeout(() => gw.kill('SIGKILL'), 10_000);
    await new Promise((r) => gw.once('exit', r));
    clearTimeout(killer);
  }
  try {
    row.loop = JSON.parse(await readFile(loopFile, 'utf8')) as Row['loop'];
  } catch {
    // killed before it could write: no figures
  }
  return row;
}

function format(row: Row): string {
  const h = percentiles(row.healthz);
  const max = row.healthz.length > 0 ? Math.max(...row.healthz) : NaN;
  const answers = [...row.answers].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}x ${k}`).join(', ');
  const f = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');
  const rssMax = row.rss.length > 0 ? Math.max(...row.rss) : NaN;
  const loop = row.loop ? `${f(row.loop.p99)} / ${f(row.loop.max)}` : '-';
  return `| ${row.shape} | ${row.what} | ${row.bodyMiB.toFixed(1)} | ${(row.sent / row.seconds).toFixed(1)} | ${answers} | ${row.healthz.length}${row.healthzFailures > 0 ? ` (${row.healthzFailures} failed)` : ''} | ${f(h.p50)} | ${f(h.p99)} | ${f(max)} | ${loop} | ${f(rssMax)} |`;
}

async function main(): Promise<void> {
  const all = [IDLE, ...Object.keys(SHAPES), MIX];
  const chosen = values.shapes ? values.shapes.split(',') : all;
  for (const s of chosen) if (!all.includes(s)) throw new Error(`unknown shape ${s}; shapes: ${all.join(', ')}`);
  const dir = await mkdtemp(join(tmpdir(), 'infergate-parse-attack-'));
  await writeFile(join(dir, 'fleet.yaml'), [podYaml('pod-0', POD.host, { app: 'attack' }), poolYaml('attack', { app: 'attack' }, POD.port), prefixRouteYaml('attack', '/v1/', 'attack')].join('---\n'));
  const pod = values.pod === 'sim' ? [CLI, 'sim', '--model', MODEL, '--host', POD.host, '--port', String(POD.port), '--ttft', '0', '--itl', '0'] : [process.argv[1]!, ...process.argv.slice(2), '--serve-pod'];
  start('nice', ['-n', '19', process.execPath, ...pod]);
  try {
    await waitForUrl(`http://${POD.host}:${POD.port}/health`);
    console.log(`gateway: --max-body-bytes ${B} ${LIMIT_ARGS.join(' ')}${values['gateway-args'] ? ` ${values['gateway-args']}` : ''}; ${CONCURRENCY} concurrent bodies per shape for ${SECONDS} s, POST ${values.path} (pod: ${values.pod})\n`);
    console.log('| shape | body | MiB | req/s | answers | /healthz samples | p50 ms | p99 ms | max ms | gateway loop delay p99 / max ms | peak RSS MiB |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const s of chosen) console.log(format(await runShape(s, dir)));
  } finally {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The draining pod: serves its model list and health, reads every body whole, answers 200. */
function servePod(): void {
  const models = JSON.stringify({ object: 'list', data: [{ id: MODEL, object: 'model', owned_by: 'bench' }] });
  createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    req.resume();
    req.once('end', () => {
      if (path === '/v1/models') res.writeHead(200, { 'content-type': 'application/json' }).end(models);
      else if (path === '/health' || path === '/metrics') res.writeHead(200, { 'content-type': 'text/plain' }).end('');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"text_completion","choices":[]}');
    });
  }).listen(POD.port, POD.host);
}

if (values['serve-pod']) servePod();
else if (values.attack !== undefined) {
  process.send!(await attack(values.attack));
  process.disconnect();
} else await main();
