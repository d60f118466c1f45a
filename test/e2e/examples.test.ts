/**
 * The Done-when check: 400 mixed requests (every base model and adapter, streamed and not) against the
 * shipped examples succeed on the first attempt, each served by a pod that serves its model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { fleetFromConfig } from '../../src/cli/demo-fleet.js';
import { startSimulator, type RunningSimulator } from '../../src/sim/simulator.js';
import { startTestGateway, tempConfig } from '../helpers/fleet.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));
const OCTET = 31;

/** Runs an example directory with its pods moved to 127.0.31.x and an ephemeral shared port. */
async function runExample(name: string, fn: (client: OpenAI, sims: RunningSimulator[]) => Promise<void>): Promise<void> {
  const src = join(EXAMPLES, name);
  const fleet = await fleetFromConfig(src, { ttftMs: 1, itlMs: 1, mode: 'random' });
  const sims: RunningSimulator[] = [];
  const files: Record<string, string> = {};
  let cfg: Awaited<ReturnType<typeof tempConfig>> | undefined;
  let gw: Awaited<ReturnType<typeof startTestGateway>> | undefined;
  try {
    let port = 0;
    for (const m of fleet) {
      const sim = await startSimulator({ ...m, host: m.host.replace(/^127\.0\.0\./, `127.0.${OCTET}.`), port });
      port = sim.port;
      sims.push(sim);
    }
    for (const f of await readdir(src)) {
      const text = await readFile(join(src, f), 'utf8');
      files[f] = text.replaceAll('127.0.0.', `127.0.${OCTET}.`).replaceAll('8000', String(port));
    }
    cfg = await tempConfig(files);
    gw = await startTestGateway(cfg.dir);
    await fn(new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 }), sims);
  } finally {
    await gw?.close();
    await Promise.all(sims.map((s) => s.close()));
    await cfg?.remove();
  }
}

async function mixedRequests(client: OpenAI, sims: RunningSimulator[], total: number): Promise<{ ok: number; perPod: Map<string, number> }> {
  const models = [...new Set(sims.flatMap((s) => [s.options.model, ...s.options.loras]))];
  assert.equal(models.length, 6, 'the example fleet has 2 bases x (1 + 2 adapters)');
  const servedBy = (addr: string | null): RunningSimulator | undefined => sims.find((s) => `${s.host}:${s.port}` === addr);
  const perPod = new Map<string, number>();
  let ok = 0;
  const one = async (i: number): Promise<void> => {
    const model = models[i % models.length]!;
    const stream = i % 2 === 1;
    const chat = i % 4 < 2;
    let served: string | null;
    const seen: string[] = [];
    if (chat && stream) {
      const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: `hi ${i}` }], max_tokens: 4, stream: true }).withResponse();
      served = response.headers.get('x-gateway-destination-endpoint-served');
      for await (const c of data) seen.push(c.model);
    } else if (chat) {
      const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: `hi ${i}` }], max_tokens: 4 }).withResponse();
      served = response.headers.get('x-gateway-destination-endpoint-served');
      seen.push(data.model);
    } else if (stream) {
      const { data, response } = await client.completions.create({ model, prompt: `hi ${i}`, max_tokens: 4, stream: true }).withResponse();
      served = response.headers.get('x-gateway-destination-endpoint-served');
      for await (const c of data) seen.push(c.model);
    } else {
      const { data, response } = await client.completions.create({ model, prompt: `hi ${i}`, max_tokens: 4 }).withResponse();
      served = response.headers.get('x-gateway-destination-endpoint-served');
      seen.push(data.model);
    }
    const sim = servedBy(served);
    assert.ok(sim, `request ${i} (${model}): served-endpoint header ${served} names no simulator`);
    assert.ok([sim.options.model, ...sim.options.loras].includes(model), `request ${i}: ${model} was served by ${sim.options.podName}, which does not serve it`);
    assert.ok(seen.length > 0 && seen.every((m) => m === model), `request ${i}: response model ${seen.join(',')} is not ${model}`);
    perPod.set(sim.options.podName, (perPod.get(sim.options.podName) ?? 0) + 1);
    ok++;
  };
  const concurrency = 16;
  for (let i = 0; i < total; i += concurrency) {
    await Promise.all(Array.from({ length: Math.min(concurrency, total - i) }, (_, k) => one(i + k)));
  }
  return { ok, perPod };
}

test('seed-demo: one pool per base model, 400 mixed requests all served correctly on the first attempt', async () => {
  await runExample('seed-demo', async (client, sims) => {
    const { ok, perPod } = await mixedRequests(client, sims, 400);
    assert.equal(ok, 400);
    // Both replicas of each model take part: least in-flight with random tie-break spreads the load.
    assert.equal(perPod.size, 4, `pods used: ${[...perPod.keys()].join(', ')}`);
    const models = await client.models.list();
    const byId = new Map(models.data.map((m) => [m.id, m as unknown as { parent: string | null }]));
    assert.equal(byId.get('gemma-sql-lora')?.parent, 'google/gemma-2b-it');
    assert.equal(byId.get('phi3-code-lora')?.parent, 'microsoft/Phi-3-mini-4k-instruct');
    assert.equal(byId.get('google/gemma-2b-it')?.parent, null);
  });
});

test('unified-pool: one pool mixing both models (the report\'s 40-60% case) routes 400 mixed requests 100% correctly', async () => {
  await runExample('unified-pool', async (client, sims) => {
    const { ok, perPod } = await mixedRequests(client, sims, 400);
    assert.equal(ok, 400);
    assert.equal(perPod.size, 4);
  });
});
