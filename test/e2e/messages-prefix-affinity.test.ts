/**
 * Prefix-cache routing for the Anthropic Messages API: a `POST /v1/messages` is scored on its `system` prompt
 * before its messages, as vLLM renders it, so the conversations of a client that sends one long system prompt
 * (Claude Code) reach the pod that already prefilled it. Two simulated pods on 127.0.118.2-3 in one pool,
 * prefix-cache-scorer alone deciding; the gateway on 127.0.0.1, port 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podYaml, poolYaml, prefixRouteYaml, startFleet, startTestGateway, tempConfig } from '../helpers/fleet.js';

const MODEL = 'Qwen/Qwen3-8B';

/** The prefix alone picks; ties (no pod holds any block) are broken at random. */
const PREFIX_ONLY = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
  - type: prefix-cache-scorer
  - type: max-score-picker
schedulingProfiles:
  - name: default
    plugins:
      - {pluginRef: prefix-cache-scorer, weight: 1}
`;

test('conversations that share a long system prompt reach the pod that holds it', async () => {
  const fleet = await startFleet(118, [
    { name: 'qwen-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 1 },
    { name: 'qwen-1', labels: {}, model: MODEL, ttftMs: 0, itlMs: 1 },
  ]);
  const pods = ['qwen-0', 'qwen-1'].map((n) => podYaml(n, fleet.ipOf(n), { app: 'qwen' }));
  const cfg = await tempConfig({ 'all.yaml': [...pods, poolYaml('qwen', { app: 'qwen' }, fleet.port), prefixRouteYaml('all', '/v1/', 'qwen')].join('---\n') });
  const gw = await startTestGateway(cfg.dir, { eppConfig: { text: PREFIX_ONLY, file: 'prefix.yaml' } });
  try {
    const served = async (body: object): Promise<string> => {
      const r = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, max_tokens: 2, ...body }) });
      assert.equal(r.status, 200, await r.clone().text());
      await r.arrayBuffer();
      return r.headers.get('x-gateway-destination-endpoint-served') ?? '';
    };
    const moved: string[] = [];
    // Eight clients, each a system prompt of its own and three conversations: without the system prompt their
    // first messages share nothing, and each conversation would be a coin toss.
    for (let i = 0; i < 8; i++) {
      const system = [{ type: 'text', text: `client ${i}: you are a coding agent with these tools and rules. ${'Follow the rules. '.repeat(30)}` }];
      const pods = new Set<string>();
      for (const topic of ['queues', 'caches', 'routes']) pods.add(await served({ system, messages: [{ role: 'user', content: `tell me about ${topic}` }] }));
      if (pods.size > 1) moved.push(`client ${i}: ${[...pods].join(', ')}`);
    }
    assert.deepEqual(moved, []);
  } finally {
    await gw.close();
    await fleet.close();
    await cfg.remove();
  }
});
