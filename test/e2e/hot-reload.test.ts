/** The config files are watched: a valid edit takes effect without restart, an invalid one is rejected. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor } from '../helpers/fleet.js';
import { createLogger } from '../../src/logger.js';

const GEMMA = 'google/gemma-2b-it';
const QWEN = 'Qwen/Qwen2.5-7B-Instruct';

test('a hot-reloaded file adds a model without restart; an invalid edit keeps the last good config', async () => {
  const fleet = await startFleet(36, [
    { name: 'gemma-0', labels: {}, model: GEMMA, ttftMs: 1, itlMs: 5 },
    { name: 'qwen-0', labels: {}, model: QWEN, ttftMs: 1, itlMs: 1 },
  ]);
  const gemmaOnly = [podYaml('gemma-0', fleet.ipOf('gemma-0'), { m: 'gemma' }), poolYaml('gemma', { m: 'gemma' }, fleet.port), baseModelRouteYaml('gemma', GEMMA, [['gemma', 1]])].join('---\n');
  const cfg = await tempConfig({ 'gemma.yaml': gemmaOnly });
  const lines: string[] = [];
  const gw = await startTestGateway(cfg.dir, { log: createLogger('info', (l) => lines.push(l)) });
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  // Traffic flows throughout: no request may fail while files change under it.
  let stop = false;
  let background = 0;
  const traffic = (async () => {
    while (!stop && background < 2000) {
      const r = await client.completions.create({ model: GEMMA, prompt: 'x', max_tokens: 4, stream: true });
      for await (const _ of r) void _;
      background++;
    }
  })();
  try {
    await assert.rejects(client.completions.create({ model: QWEN, prompt: 'x' }), OpenAI.NotFoundError);

    await cfg.write('qwen.yaml', [podYaml('qwen-0', fleet.ipOf('qwen-0'), { m: 'qwen' }), poolYaml('qwen', { m: 'qwen' }, fleet.port), baseModelRouteYaml('qwen', QWEN, [['qwen', 1]])].join('---\n'));
    const routed = await waitFor(async () => {
      try {
        return (await client.completions.create({ model: QWEN, prompt: 'x', max_tokens: 1 })).model === QWEN;
      } catch {
        return false;
      }
    }, 5000);
    assert.ok(routed, 'the new model never became routable');

    const version = gw.gateway.state!.snapshot.version;
    await cfg.write('qwen.yaml', 'apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nmetadata: {name: broken}\nspec: {targetPorts: [{number: 99999}]}\n');
    assert.ok(await waitFor(() => lines.some((l) => l.includes('configuration change rejected')), 5000), 'the bad edit was not reported');
    const report = lines.find((l) => l.includes('configuration change rejected'))!;
    assert.match(report, /qwen\.yaml \(document 1\) InferencePool default\/broken: field spec\.targetPorts\[0\]\.number/);
    assert.equal(gw.gateway.state!.snapshot.version, version, 'the last good config stays in force');
    assert.equal((await client.completions.create({ model: QWEN, prompt: 'x', max_tokens: 1 })).model, QWEN);
  } finally {
    stop = true;
    await traffic;
    await gw.close();
    await fleet.close();
    await cfg.remove();
  }
  assert.ok(background > 0, 'background traffic ran');
});
