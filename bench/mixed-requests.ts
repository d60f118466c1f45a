/**
 * Sends mixed OpenAI requests (every model the gateway lists: bases and adapters, chat and completions,
 * streamed and not) to a running gateway with the official client, no client retries, and reports success,
 * routing accuracy (the pod that served it lists the model) and latency. For the demo:
 *
 *   npm start                                   # in one terminal
 *   node dist/bench/mixed-requests.js --count 400 --concurrency 16
 */
import { benchArgs } from './lib/bench-args.js';
import OpenAI from 'openai';

const { values } = benchArgs({ options: { url: { type: 'string', default: 'http://127.0.0.1:8080' }, count: { type: 'string', default: '400' }, concurrency: { type: 'string', default: '16' } } });
const COUNT = Math.min(100_000, Number(values.count));
const CONCURRENCY = Number(values.concurrency);
const client = new OpenAI({ baseURL: `${values.url}/v1`, apiKey: 'unused', maxRetries: 0 });

interface ModelEntry {
  id: string;
  parent?: string | null;
}

/** What each endpoint serves, asked from the pod itself so the check does not trust the gateway. */
const servedByEndpoint = new Map<string, Set<string>>();
async function podServes(endpoint: string, model: string): Promise<boolean> {
  let set = servedByEndpoint.get(endpoint);
  if (!set) {
    const res = await fetch(`http://${endpoint}/v1/models`);
    const list = (await res.json()) as { data: ModelEntry[] };
    set = new Set(list.data.map((m) => m.id));
    servedByEndpoint.set(endpoint, set);
  }
  return set.has(model);
}

const models = ((await client.models.list()).data as unknown as ModelEntry[]).map((m) => m.id);
let ok = 0;
let wrongPod = 0;
const failures = new Map<string, number>();
const perEndpoint = new Map<string, number>();
const latencies: number[] = [];

async function one(i: number): Promise<void> {
  const model = models[i % models.length]!;
  const stream = i % 2 === 1;
  const t0 = performance.now();
  try {
    let served: string | null;
    if (i % 4 < 2) {
      const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: `question ${i}` }], max_tokens: 8, stream }).withResponse();
      served = response.headers.get('x-gateway-destination-endpoint-served');
      if (stream) for await (const _ of data as AsyncIterable<unknown>) void _;
    } else {
      const { data, response } = await client.completions.create({ model, prompt: `prompt ${i}`, max_tokens: 8, stream }).withResponse();
      served = response.headers.get('x-gateway-destination-endpoint-served');
      if (stream) for await (const _ of data as AsyncIterable<unknown>) void _;
    }
    latencies.push(performance.now() - t0);
    if (!served || !(await podServes(served, model))) wrongPod++;
    perEndpoint.set(served ?? '?', (perEndpoint.get(served ?? '?') ?? 0) + 1);
    ok++;
  } catch (e) {
    const key = e instanceof OpenAI.APIError ? `${e.status} ${e.code ?? ''}` : (e as Error).message;
    failures.set(key, (failures.get(key) ?? 0) + 1);
  }
}

const t0 = performance.now();
for (let i = 0; i < COUNT; i += CONCURRENCY) await Promise.all(Array.from({ length: Math.min(CONCURRENCY, COUNT - i) }, (_, k) => one(i + k)));
const secs = (performance.now() - t0) / 1000;
latencies.sort((a, b) => a - b);
const q = (p: number): string => (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN).toFixed(1);
console.log(`models: ${models.join(', ')}`);
console.log(`${COUNT} requests (half streamed) at concurrency ${CONCURRENCY} in ${secs.toFixed(1)} s, 1 attempt each (client retries off)`);
console.log(`succeeded on the first attempt: ${ok}/${COUNT} (${((100 * ok) / COUNT).toFixed(1)}%)`);
console.log(`served by a pod that does not serve the model: ${wrongPod}`);
console.log(`latency ms p50 ${q(0.5)}  p90 ${q(0.9)}  p99 ${q(0.99)}`);
console.log(`per endpoint: ${[...perEndpoint].map(([k, v]) => `${k}=${v}`).join(' ')}`);
if (failures.size > 0) console.log(`failures: ${[...failures].map(([k, v]) => `${k} x${v}`).join(', ')}`);
process.exitCode = ok === COUNT && wrongPod === 0 ? 0 : 1;
