/**
 * What watching a response and logging it cost per request, in this build and in others' `dist/` side by side:
 * the ResponseTap over a non-streamed chat completion (its bytes, then `usage` read at the end), over a 64-token
 * stream that asked for `include_usage`, and the access log's line for the request. Builds alternate round by
 * round (A B A B), so a machine that slows down slows them alike; each figure is the median over rounds.
 * A program, not a test: prints nanoseconds per response.
 *
 *   npx tsc -p . && node dist/bench/response-observers.js [--rounds 7] [--responses 200000] [--baseline DIST ...]
 */
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RequestRecord } from '../src/observability/request-record.js';
import { newRequestRecord } from '../src/observability/request-record.js';
import { benchArgs, positiveFlag } from './lib/bench-args.js';

const { values } = benchArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    responses: { type: 'string', default: '200000' },
    baseline: { type: 'string', multiple: true, default: [] },
  },
});
const ROUNDS = positiveFlag(values, 'rounds');
const RESPONSES = positiveFlag(values, 'responses');

/** The parts of a build this measures, loaded from its `dist/`. */
interface Build {
  label: string;
  ResponseTap: new (record: RequestRecord, contentType: string | undefined) => { chunk(data: Buffer): void; end(): void };
  formatAccessLogLine: (r: RequestRecord) => string;
}

async function load(label: string, dist: string): Promise<Build> {
  const url = (p: string): string => pathToFileURL(resolve(dist, p)).href;
  const tap = (await import(url('src/observability/response-tap.js'))) as Pick<Build, 'ResponseTap'>;
  const log = (await import(url('src/observability/access-log.js'))) as Pick<Build, 'formatAccessLogLine'>;
  return { label, ResponseTap: tap.ResponseTap, formatAccessLogLine: log.formatAccessLogLine };
}

const ANSWER = Buffer.from(
  '{"id":"chatcmpl-5f1c","object":"chat.completion","created":1765000000,"model":"bench/model","choices":[{"index":0,' +
    '"message":{"role":"assistant","content":"Hello! How can I help you today?"},"logprobs":null,"finish_reason":"stop"}],' +
    '"usage":{"prompt_tokens":15,"total_tokens":24,"completion_tokens":9,"prompt_tokens_details":null}}',
);
/** 64 token events, the usage event and `[DONE]`, in chunks of a few events as a model server flushes them. */
const STREAM: Buffer[] = (() => {
  const events: string[] = [];
  for (let i = 0; i < 64; i++) events.push(`data: {"id":"chatcmpl-5f1c","object":"chat.completion.chunk","created":1765000000,"model":"bench/model","choices":[{"index":0,"delta":{"content":" tok${i}"},"finish_reason":null}]}\n\n`);
  events.push('data: {"id":"chatcmpl-5f1c","object":"chat.completion.chunk","created":1765000000,"model":"bench/model","choices":[],"usage":{"prompt_tokens":15,"total_tokens":79,"completion_tokens":64}}\n\n', 'data: [DONE]\n\n');
  const chunks: Buffer[] = [];
  for (let i = 0; i < events.length; i += 4) chunks.push(Buffer.from(events.slice(i, i + 4).join('')));
  return chunks;
})();

function record(): RequestRecord {
  const r = newRequestRecord('0f6c2a9e-1b2c-4d5e-8f90-123456789abc', 'POST', '/v1/chat/completions', '127.0.0.1');
  Object.assign(r, { model: 'bench/model', baseModel: 'bench/model', targetModel: 'bench/model', pool: 'default/bench', endpoint: '127.0.77.2:18600', attempts: 1, status: 200, endedAt: r.startedAt + 1.5 });
  r.usage = { promptTokens: 15, completionTokens: 9 };
  return r;
}

type Case = (b: Build, r: RequestRecord) => unknown;
const CASES: [string, Case, number][] = [
  ['tap, whole answer', (b, r) => {
    const t = new b.ResponseTap(r, 'application/json');
    t.chunk(ANSWER);
    t.end();
  }, 1],
  ['tap, 64-token stream', (b, r) => {
    const t = new b.ResponseTap(r, 'text/event-stream');
    for (const c of STREAM) t.chunk(c);
    t.end();
  }, 8],
  ['access log line', (b, r) => b.formatAccessLogLine(r), 1],
];

/** ns per call of `f` over `n` calls. */
function time(b: Build, f: Case, n: number): number {
  const records = Array.from({ length: 256 }, record);
  const t0 = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < n; i++) if (f(b, records[i & 255]!) === undefined) sink++;
  const ns = Number(process.hrtime.bigint() - t0) / n;
  return sink < 0 ? -1 : ns;
}

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const builds = [await load('this build', resolve(import.meta.dirname, '..')), ...(await Promise.all(values.baseline.map((d, i) => load(`baseline ${i + 1} (${d})`, d))))];
console.log(`${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}, Node ${process.version}; ${ROUNDS} rounds, builds alternated`);
for (const [name, f, divisor] of CASES) {
  const n = Math.ceil(RESPONSES / divisor);
  for (const b of builds) time(b, f, Math.ceil(n / 10)); // warm up every build's code first
  const ns = builds.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < builds.length; k++) {
      const i = (k + round) % builds.length;
      ns[i]!.push(time(builds[i]!, f, n));
    }
  }
  const first = median(ns[0]!);
  for (let i = 0; i < builds.length; i++) {
    const m = median(ns[i]!);
    const range = `${Math.min(...ns[i]!).toFixed(0)}-${Math.max(...ns[i]!).toFixed(0)}`;
    console.log(`${name.padEnd(22)} ${builds[i]!.label.padEnd(40)} ${m.toFixed(0).padStart(6)} ns/response (rounds ${range})${i > 0 ? `  this build / it: ${(first / m).toFixed(2)}x` : ''}`);
  }
}
