/**
 * Pick latency of the default scheduling profile (served-model filter, queue x2, kv-cache x2, prefix x3,
 * max-score picker, PreRequest) on pools of 10, 100 and 1,000 endpoints, for a 4k-token (16k-character) prompt.
 * A program, not a test: prints p50 / p90 / p99 / mean microseconds per pick and the share spent hashing the
 * prompt, then the prefix-index update the scorer defers to the event loop (timed apart, right after each
 * pick, as the event loop would run it; its memory traffic leaves the next pick's caches cold, which this
 * measurement includes). Every prompt has a new 1k-token suffix, so the index grows and evicts as in service.
 *
 *   npx tsc -p . && node dist/bench/pick-latency.js [--picks 20000] [--seconds 5] [--sizes 10,100,1000] [--metrics]
 *
 * `--metrics` times every plugin and pick into the Prometheus families, as a running gateway does.
 */
import { cpus, loadavg } from 'node:os';
import { pod } from '../src/api/test-fixtures.js';
import { Endpoint } from '../src/epp/datastore/endpoint.js';
import { loadDefaultEndpointPickerConfig } from '../src/epp/config/default-endpoint-picker-config.js';
import { Scheduler, newSchedulingContext } from '../src/epp/framework/scheduler.js';
import type { SchedulingRequest } from '../src/epp/framework/scheduling-request.js';
import { PromptHasher } from '../src/epp/plugins/prefix-block-hash.js';
import type { PrefixCacheScorer } from '../src/epp/plugins/prefix-cache-scorer.js';
import { registerBuiltins } from '../src/epp/plugins/register-builtins.js';
import { seededRandom } from '../src/seeded-random.js';
import { GatewayMetrics } from '../src/observability/metrics/gateway-metrics.js';
import { benchArgs, positiveFlag } from './lib/bench-args.js';

const { values } = benchArgs({ options: { picks: { type: 'string', default: '20000' }, seconds: { type: 'string', default: '5' }, sizes: { type: 'string', default: '10,100,1000' }, metrics: { type: 'boolean', default: false } } });

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const PROMPT_CHARS = 16_384;
/** Prompts share one of this many 12k-character prefixes (system prompt + documents), then differ: every one is new. */
const GROUPS = 64;
const SHARED_CHARS = 12_288;

const MAX_PICKS = positiveFlag(values, 'picks');
const MAX_SECONDS = positiveFlag(values, 'seconds');
const SIZES = values.sizes.split(',').map(Number).filter((n) => n > 0);

const rand = seededRandom(42);
const WORDS = 'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come made may part'.split(' ');

function text(chars: number): string {
  let s = '';
  while (s.length < chars) s += (WORDS[Math.floor(rand() * WORDS.length)] ?? 'x') + ' ';
  // Round trip through JSON so the string is flat, as a prompt parsed from a request body is.
  return JSON.parse(JSON.stringify(s.slice(0, chars))) as string;
}

const prefixes = Array.from({ length: GROUPS }, () => text(SHARED_CHARS));
const corpus = text(1 << 20);
/** A shared prefix and a suffix no other prompt has (a slice of a 1 MB text at a random offset). */
function prompt(): string {
  const at = Math.floor(rand() * (corpus.length - PROMPT_CHARS));
  const suffix = corpus.slice(at, at + PROMPT_CHARS - SHARED_CHARS);
  const p = (prefixes[Math.floor(rand() * GROUPS)] ?? '') + suffix;
  // Reading a character flattens the concatenation in V8, as a prompt parsed from a request body is flat.
  p.charCodeAt(0);
  return p;
}

function request(p: string, i: number): SchedulingRequest {
  return { requestId: `r${i}`, model: MODEL, prompt: p, priority: 0, header: () => undefined };
}

function pool(n: number): Endpoint[] {
  return Array.from({ length: n }, (_, i) => {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const ep = new Endpoint(pod(`vllm-${i}`).labels({ app: 'vllm' }).ip(ip).ready(), ip, 8000);
    ep.setModels([{ id: MODEL, parent: null }], Date.now());
    return ep;
  });
}

function randomizeMetrics(eps: readonly Endpoint[], now: number): void {
  for (const ep of eps) {
    ep.metrics = {
      waitingQueueSize: Math.floor(rand() * 12),
      runningQueueSize: Math.floor(rand() * 64),
      kvCacheUsagePercent: rand(),
      runningLoras: [],
      waitingLoras: [],
      maxLoras: 0,
      updatedAt: now,
    };
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const registry = registerBuiltins();
const METRICS = values.metrics ? new GatewayMetrics() : undefined;
console.log(`pick latency, default profile, ${PROMPT_CHARS}-character prompts (${GROUPS} shared ${SHARED_CHARS}-character prefixes), node ${process.version}${METRICS ? ', plugin and pick metrics on' : ''}`);
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs`);
console.log('                  pick: filter, score, pick, hooks (us)         |  deferred prefix-index update (us)');
console.log('endpoints   picks     p50     p90     p99    mean  hash  share |     p50     p99    mean  index servers/blocks');
for (const size of SIZES) {
  const scheduler = new Scheduler(loadDefaultEndpointPickerConfig(registry).schedulerConfig);
  const prefix = scheduler.config.plugins.get('prefix-cache-scorer') as PrefixCacheScorer;
  if (METRICS) {
    scheduler.timer = METRICS.scheduler;
    prefix.matchObserver = METRICS.prefix.observeMatch;
  }
  const eps = pool(size);
  let now = Date.now();
  randomizeMetrics(eps, now);
  // Warm up the prefix index and the JIT: every endpoint ends up holding a few groups' prompts.
  const warm = Math.max(4000, size * 8);
  for (let i = 0; i < warm; i++) {
    if (i % 50 === 0) randomizeMetrics(eps, now);
    scheduler.schedule(newSchedulingContext(request(prompt(), i), 'default/bench', { now, random: rand }), eps);
    prefix.flush();
  }
  const samples = new Float64Array(MAX_PICKS);
  const updates = new Float64Array(MAX_PICKS);
  let picks = 0;
  const deadline = process.hrtime.bigint() + BigInt(MAX_SECONDS * 1e9);
  while (picks < MAX_PICKS && process.hrtime.bigint() < deadline) {
    // Metrics move between scrapes, not between picks: refresh them every 50 picks.
    if (picks % 50 === 0) randomizeMetrics(eps, (now += 50));
    const req = request(prompt(), picks);
    const t0 = process.hrtime.bigint();
    const r = scheduler.schedule(newSchedulingContext(req, 'default/bench', { now, random: rand }), eps);
    const t1 = process.hrtime.bigint();
    // The index update the picker defers to the event loop (as llm-d does in a goroutine): timed apart.
    prefix.flush();
    const t2 = process.hrtime.bigint();
    if (!r.endpoint) throw new Error('no endpoint picked');
    updates[picks] = Number(t2 - t1) / 1000;
    samples[picks++] = Number(t1 - t0) / 1000;
  }
  const sorted = samples.slice(0, picks).sort();
  const sortedUpdates = updates.slice(0, picks).sort();
  const mean = sorted.reduce((a, b) => a + b, 0) / picks;
  // The hashing share: the same prompts through the same hasher, alone.
  const hasher = new PromptHasher();
  const hashRuns = 5000;
  const prompts = Array.from({ length: 64 }, prompt);
  const h0 = process.hrtime.bigint();
  for (let i = 0; i < hashRuns; i++) hasher.hash(MODEL, prompts[i % prompts.length] ?? '', 64, 256);
  const hashUs = Number(process.hrtime.bigint() - h0) / 1000 / hashRuns;
  const { servers, blocks } = prefix.index.stats;
  console.log(
    [
      String(size).padStart(9),
      String(picks).padStart(7),
      ...[50, 90, 99].map((p) => percentile(sorted, p).toFixed(1).padStart(7)),
      mean.toFixed(1).padStart(7),
      hashUs.toFixed(1).padStart(5),
      `${((hashUs / mean) * 100).toFixed(0).padStart(5)}% |`,
      percentile(sortedUpdates, 50).toFixed(1).padStart(7),
      percentile(sortedUpdates, 99).toFixed(1).padStart(7),
      (sortedUpdates.reduce((a, b) => a + b, 0) / picks).toFixed(1).padStart(7),
      ` ${servers}/${blocks}`,
    ].join(' '),
  );
}
