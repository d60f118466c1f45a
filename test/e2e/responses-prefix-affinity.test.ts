/**
 * Prefix-cache routing for the Responses API: a `POST /v1/responses` is scored on its `instructions` and `input`,
 * as GIE's approximate prefix scorer reads its input, so a client that sends a conversation's whole input again
 * (no `previous_response_id`) reaches the pod that prefilled its start. Two simulated pods on 127.0.113.2-3 in
 * one pool, prefix-cache-scorer alone deciding; the gateway on 127.0.0.1, port 0.
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

test("a Responses API conversation sent again whole reaches the pod that holds its prefix, instructions and input", async () => {
  const fleet = await startFleet(113, [
    { name: 'qwen-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 1 },
    { name: 'qwen-1', labels: {}, model: MODEL, ttftMs: 0, itlMs: 1 },
  ]);
  const pods = ['qwen-0', 'qwen-1'].map((n) => podYaml(n, fleet.ipOf(n), { app: 'qwen' }));
  const cfg = await tempConfig({ 'all.yaml': [...pods, poolYaml('qwen', { app: 'qwen' }, fleet.port), prefixRouteYaml('all', '/v1/', 'qwen')].join('---\n') });
  const gw = await startTestGateway(cfg.dir, { eppConfig: { text: PREFIX_ONLY, file: 'prefix.yaml' } });
  try {
    const served = async (body: object): Promise<string> => {
      const r = await fetch(`${gw.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, max_output_tokens: 2, store: false, ...body }) });
      assert.equal(r.status, 200, await r.clone().text());
      await r.arrayBuffer();
      return r.headers.get('x-gateway-destination-endpoint-served') ?? '';
    };
    const instructions = 'You are a careful assistant for one customer. '.repeat(20);
    const moved: string[] = [];
    // Eight conversations: a coin toss each for the first turn, so without the prefix one would move at random.
    for (let i = 0; i < 8; i++) {
      const first = [{ role: 'user', content: `conversation ${i}: ${'tell me about queues and caches. '.repeat(12)}` }];
      const firstPod = await served({ instructions, input: first });
      const next = [...first, { role: 'assistant', content: 'Queues wait.' }, { role: 'user', content: 'and then?' }];
      const nextPod = await served({ instructions, input: next });
      if (nextPod !== firstPod) moved.push(`conversation ${i}: ${firstPod} then ${nextPod}`);
      // A plain string input holds its prefix too.
      const text = `story ${i}: ${'once upon a time in a data centre '.repeat(12)}`;
      const textPod = await served({ input: text });
      if ((await served({ input: `${text} and the end.` })) !== textPod) moved.push(`string input ${i}`);
    }
    assert.deepEqual(moved, []);
  } finally {
    await gw.close();
    await fleet.close();
    await cfg.remove();
  }
});
