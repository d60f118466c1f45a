/**
 * llm-d's header-profile-handler through `serve`: a coordinator names the stage of each call in `EPP-Profile` and
 * one picker serves every stage; a stage no profile has is a 400 in OpenAI's shape, not a misleading 429.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { eppConfigMapYaml } from '../../src/config/manifests.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig } from '../helpers/fleet.js';

const MODEL = 'model/h';
const ROLE = 'llm-d.ai/role';
const CONFIG = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: prefill-filter
- type: decode-filter
- type: header-profile-handler
schedulingProfiles:
- name: prefill
  plugins: [{pluginRef: prefill-filter}]
- name: decode
  plugins: [{pluginRef: decode-filter}]
`;

test('EPP-Profile picks the stage; no header is decode; an unknown stage is 400', async () => {
  const roles = { 'h-prefill': 'prefill', 'h-decode': 'decode' } as const;
  const fleet = await startFleet(196, Object.keys(roles).map((name) => ({ name, labels: {}, model: MODEL, ttftMs: 0, itlMs: 1 })));
  const pool = poolYaml('stages', { m: 'h' }, fleet.port).replace('metadata:\n  name: stages', 'metadata:\n  name: stages\n  annotations: {infergate.io/endpoint-picker-config: stages}');
  const cfg = await tempConfig({
    'all.yaml': [...Object.entries(roles).map(([n, role]) => podYaml(n, fleet.ipOf(n), { m: 'h', [ROLE]: role })), pool, baseModelRouteYaml('h', MODEL, [['stages', 1]]), eppConfigMapYaml('stages', CONFIG)].join('---\n'),
  });
  const gw = await startTestGateway(cfg.dir);
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const served = async (headers: Record<string, string>) =>
      (await client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 1 }, { headers }).withResponse()).response.headers.get('x-gateway-destination-endpoint-served');
    assert.equal(await served({ 'EPP-Profile': 'prefill' }), `${fleet.ipOf('h-prefill')}:${fleet.port}`);
    assert.equal(await served({ 'epp-profile': 'decode' }), `${fleet.ipOf('h-decode')}:${fleet.port}`);
    assert.equal(await served({}), `${fleet.ipOf('h-decode')}:${fleet.port}`);
    await assert.rejects(
      client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 1 }, { headers: { 'EPP-Profile': 'encode' } }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && e.code === 'bad_request' && e.param === 'epp-profile' && /"encode" names no scheduling profile/.test(e.message),
    );
  } finally {
    await gw.close();
    await fleet.close();
    await cfg.remove();
  }
});
