/**
 * The dashboard's scheduling decisions for a P/D pool, in a real headless browser: each profile's table marks the
 * pod that profile picked, so the prefill profile shows its prefill pod, not only the decode pod the request went
 * to. Scripted pods on 127.0.134.x, labelled with their llm-d.ai/role.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser } from 'playwright-core';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { eppConfigMapYaml } from '../../src/config/manifests.js';
import { chromiumPath } from '../helpers/chromium.js';
import { podYaml, poolYaml, prefixRouteYaml, startTestGateway, tempConfig, waitFor, type TempConfig } from '../helpers/fleet.js';
import { startScriptedPod, type ScriptedPod } from '../helpers/scripted-pod.js';
import { ALWAYS_PD_CONFIG } from '../helpers/epp-configs.js';

const MODEL = 'pd/model';
const HOST = '127.0.134.10';

const pods: ScriptedPod[] = [];
let cfg: TempConfig;
let gw: RunningGateway;
let browser: Browser;

async function pod(host: string, port: number): Promise<ScriptedPod> {
  const answer = { id: 'c', object: 'chat.completion', created: 1, model: MODEL, choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } };
  return startScriptedPod({ host, port, model: MODEL, paths: { '/v1/chat/completions': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer)) } });
}

before(async () => {
  const executablePath = chromiumPath();
  const decode = await pod('127.0.134.1', 0);
  pods.push(decode, await pod('127.0.134.3', decode.port));
  const roles = ['decode', 'prefill'];
  const pool = poolYaml('pd', { app: 'pd' }, decode.port).replace('metadata:\n  name: pd', 'metadata:\n  name: pd\n  annotations: {infergate.io/endpoint-picker-config: pd-epp}');
  cfg = await tempConfig({ 'all.yaml': [...pods.map((p, i) => podYaml(`pd-${i}`, p.host, { app: 'pd', 'llm-d.ai/role': roles[i]! })), pool, prefixRouteYaml('all', '/v1/', 'pd'), eppConfigMapYaml('pd-epp', ALWAYS_PD_CONFIG)].join('---\n') });
  gw = await startTestGateway(cfg.dir, { host: HOST, adminPort: 0, adminHost: HOST, debugDecisions: 5 });
  const listed = async (): Promise<boolean> => ((await (await fetch(`${gw.url}/v1/models`)).json()) as { data: unknown[] }).data.length > 0;
  assert.ok(await waitFor(listed), 'the model is discovered');
  browser = await chromium.launch({ executablePath, headless: true });
});

after(async () => {
  await browser?.close();
  await gw?.close();
  for (const p of pods) await p.close();
  await cfg?.remove();
});

test("a P/D decision marks each profile's own pick: the prefill pod in the prefill profile, the decode pod in the decode one", async () => {
  const decodePod = `127.0.134.1:${pods[0]!.port}`;
  const prefillPod = `127.0.134.3:${pods[0]!.port}`;
  const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hello' }] }) });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  const page = await browser.newPage();
  try {
    await page.goto(`${gw.adminUrl}/`);
    const decision = page.getByTestId('decision').first();
    await decision.waitFor({ timeout: 10_000 });
    const picked = await decision.locator('tr.picked td:first-child').allTextContents();
    assert.deepEqual(picked.map((t) => t.replace(' picked', '')), [decodePod, prefillPod], 'decode runs first; the prefill profile, second, marks its prefill pod');
  } finally {
    await page.close();
  }
});
