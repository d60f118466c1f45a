/**
 * Today's llm-d names beside the field report's (issue #11): allowlists labelled inference.llm-d.ai/ipp-managed,
 * InferenceObjective and InferenceModelRewrite in llm-d.ai/v1alpha2 (winning over the legacy group for a pool),
 * and the x-llm-d-inference-objective header with its x-gateway-* alias.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { podYaml, poolYaml, prefixRouteYaml, startFleet, startTestGateway, tempConfig } from '../helpers/fleet.js';

const BASE = 'Qwen/Qwen3-32B';

const objective = (group: string, name: string, priority: number): string => `apiVersion: ${group}/v1alpha2
kind: InferenceObjective
metadata: {name: ${name}}
spec:
  priority: ${priority}
  poolRef: {group: inference.networking.k8s.io, name: qwen}
`;

const rewrite = (group: string, name: string, target: string): string => `apiVersion: ${group}/v1alpha2
kind: InferenceModelRewrite
metadata: {name: ${name}}
spec:
  poolRef: {group: inference.networking.k8s.io, name: qwen}
  rules:
    - matches: [{model: {type: Exact, value: segment-lora}}]
      targets: [{modelRewrite: ${target}, weight: 100}]
`;

test('allowlists under ipp-managed, and objectives and rewrites in llm-d.ai, route as the old names do; llm-d.ai wins over the legacy group', async () => {
  const fleet = await startFleet(69, [
    { name: 'qwen-0', labels: {}, model: BASE, loras: ['segment-lora-v1', 'sql-lora'], ttftMs: 0, itlMs: 0 },
    { name: 'qwen-1', labels: {}, model: BASE, loras: ['segment-lora-v2', 'sql-lora'], ttftMs: 0, itlMs: 0 },
  ]);
  const cfg = await tempConfig({
    'all.yaml': [
      podYaml('qwen-0', fleet.ipOf('qwen-0'), { app: 'qwen' }),
      podYaml('qwen-1', fleet.ipOf('qwen-1'), { app: 'qwen' }),
      poolYaml('qwen', { app: 'qwen' }, fleet.port),
      prefixRouteYaml('all', '/v1/', 'qwen'),
      `apiVersion: v1
kind: ConfigMap
metadata:
  name: qwen-adapters
  labels: {inference.llm-d.ai/ipp-managed: "true"}
data:
  baseModel: ${BASE}
  adapters: |
    - sql-lora
    - segment-lora-v1
    - segment-lora-v2
`,
      // The same objective name in both groups: llm-d's (-1) wins over the legacy one (5).
      objective('llm-d.ai', 'batch', -1),
      objective('inference.networking.x-k8s.io', 'batch', 5),
      objective('inference.networking.x-k8s.io', 'legacy-only', 7),
      rewrite('llm-d.ai', 'canary', 'segment-lora-v2'),
      rewrite('inference.networking.x-k8s.io', 'old-canary', 'segment-lora-v1'),
    ].join('---\n'),
  });
  // --strict-allowlist: the adapters route only because the ipp-managed ConfigMap names them.
  const gw = await startTestGateway(cfg.dir, { strictAllowlist: true, debugDecisions: 20, debugShowRequestIds: true });
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const sql = await client.completions.create({ model: 'sql-lora', prompt: 'x', max_tokens: 1 });
    assert.equal(sql.model, 'sql-lora');
    const priorities = new Map<string, number>();
    for (const [id, headers] of [
      ['new-header', { 'x-llm-d-inference-objective': 'batch' }],
      ['old-header', { 'x-gateway-inference-objective': 'batch' }],
      ['both-headers', { 'x-llm-d-inference-objective': 'batch', 'x-gateway-inference-objective': 'nope' }],
      ['legacy-only', { 'x-llm-d-inference-objective': 'legacy-only' }],
      ['none', {}],
    ] as const) {
      const { data, response } = await client.completions.create({ model: 'segment-lora', prompt: 'x', max_tokens: 1 }, { headers: { ...headers, 'x-request-id': id } }).withResponse();
      // llm-d's rewrite, not the legacy one, decides where the alias goes.
      assert.equal(data.model, 'segment-lora-v2', id);
      assert.equal(response.headers.get('x-inference-pod'), 'qwen-1', id);
      const debug = (await (await fetch(`${gw.adminUrl}/debug/scheduling?request_id=${id}`)).json()) as { decisions: { priority: number }[] };
      priorities.set(id, debug.decisions[0]!.priority);
    }
    // A pool with objectives in llm-d.ai ignores the legacy group's, even names only the legacy group has.
    assert.deepEqual(Object.fromEntries(priorities), { 'new-header': -1, 'old-header': -1, 'both-headers': -1, 'legacy-only': 0, none: 0 });
  } finally {
    await gw.close();
    await fleet.close();
    await cfg.remove();
  }
});
