/**
 * What token-producer costs a request (issue #14): the whole request rendered per request (`wholePrompt: true`,
 * llm-d's way) against the shared prefix alone (`wholePrompt: false`), alternated run by run against a simulated
 * pod's render endpoint on loopback: tokenizer calls per request, the wait for the tokens (p50/p99), and the block
 * keys hashing per request. A program, not a test: prints figures.
 *
 *   npx tsc -p . && node dist/bench/token-producer-cost.js [--requests 400] [--concurrency 4] [--loopback-octet 136]
 *
 * Traffic: 20 groups, each a 3,000-token system prompt, 5 users a group, each asking one of 3 600-token questions.
 * The simulator runs in this process, so the wait includes its rendering (a pod's render would run elsewhere).
 */
import { benchArgs } from './lib/bench-args.js';
import { startSimulator } from '../src/sim/simulator.js';
import { createLogger } from '../src/logger.js';
import { context, request } from '../src/epp/framework/test-fixtures.js';
import { RenderClient } from '../src/epp/plugins/render-client.js';
import { TokenProducer } from '../src/epp/plugins/token-producer.js';
import { TOKENIZED_PROMPT_KEY, type TokenizedPrompt } from '../src/epp/plugins/tokenized-prompt.js';
import { BlockKeyHasher } from '../src/kvevents/block-key.js';

const { values } = benchArgs({
  options: {
    requests: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '4' },
    'loopback-octet': { type: 'string', default: '136' },
  },
});
const N = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const MODEL = 'bench-model';
const GROUPS = 20;
const USERS = 5;

const system = (g: number): string => `Group ${g} system prompt: answer from the handbook, cite it, never guess. `.repeat(200).slice(0, 12_000);
const question = (g: number, u: number, i: number): string => `User ${u} of group ${g} asks question ${i % 3}: `.padEnd(2400, 'x');
function body(i: number): Record<string, unknown> {
  const g = i % GROUPS;
  const u = Math.floor(i / GROUPS) % USERS;
  return { model: MODEL, max_tokens: 4, messages: [{ role: 'system', content: system(g) }, { role: 'user', content: question(g, u, i) }] };
}

const sim = await startSimulator({ model: MODEL, host: `127.0.${values['loopback-octet']}.2`, port: 0 });
const render = new RenderClient();
const hasher = new BlockKeyHasher({ blockSize: 16, hashSeed: '' });

async function run(wholePrompt: boolean): Promise<Record<string, unknown>> {
  const p = new TokenProducer('tp', { url: sim.url, produceTimeoutMs: 1000, wholePrompt });
  p.bindRuntime({ log: createLogger('silent'), render, headersFor: () => undefined });
  const waits: number[] = [];
  let hashMs = 0;
  let tokens = 0;
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < N) {
      const ctx = context({ ...request({ model: MODEL }), body: body(next++) });
      const start = performance.now();
      await p.produce(ctx, [], true);
      const produced = performance.now();
      const tp = ctx.state.read<TokenizedPrompt>(TOKENIZED_PROMPT_KEY);
      if (tp) {
        tp.keys(hasher, MODEL);
        tokens += tp.tokens.length;
      }
      hashMs += performance.now() - produced;
      waits.push(produced - start);
    }
  }));
  waits.sort((a, b) => a - b);
  const at = (q: number): string => (waits[Math.min(waits.length - 1, Math.floor(q * waits.length))] as number).toFixed(2);
  return { wholePrompt, callsPerRequest: +(p.calls / N).toFixed(3), waitP50Ms: at(0.5), waitP99Ms: at(0.99), hashUsPerRequest: +((1000 * hashMs) / N).toFixed(1), tokensPerRequest: Math.round(tokens / N) };
}

console.log(`token-producer cost: ${N} requests, ${CONCURRENCY} at a time, ${GROUPS} groups x ${USERS} users, 3,000-token system prompts, 600-token questions`);
for (const whole of [false, true, false, true]) console.log(JSON.stringify(await run(whole)));
await render.close();
await sim.close();
