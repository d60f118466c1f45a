/**
 * `--api-keys` in front of pools another endpoint picker serves. What the picker is sent: the key's objective and
 * the tenant as fairness ID, never the client's own headers (llm-d's EPP queues and prioritises by them). And the
 * answers that are not the endpoint's: the picker's own refusal (a 429 shed), its 503 replacing the endpoint's
 * answer, and the gateway's 503 under FailClose when the picker cannot be reached. Each carries the tenant's
 * x-ratelimit-* headers, as the gateway's own refusals after admission do (docs/tenancy.md). Simulated pods on 127.0.221.2-5, the scripted EPP on
 * 127.0.221.30, a picker nobody serves on 127.0.221.31, the gateways on 127.0.221.1 and 127.0.221.6.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { startFleet, startTestGateway, tempConfig, type Fleet, type TempConfig } from '../helpers/fleet.js';
import { readHeaderMap } from '../../src/envoy/header-map.js';
import { eppService, fleetDocs, scriptedEpp } from '../helpers/external-pickers.js';
import { failure } from '../helpers/openai-failure.js';
import { testTenancy, type TestKey } from '../helpers/tenancy.js';

const KEYS: TestKey[] = [{ key: 'ig-refused', name: 'team-refused', models: ['*'], extra: { requestsPerMinute: 50, tokensPerMinute: 10_000, objective: 'batch' } }];

let fleet: Fleet;
let epp: Awaited<ReturnType<typeof scriptedEpp>>;
let cfg: TempConfig;
let downCfg: TempConfig;
const keysDirs: string[] = [];
let gw: RunningGateway;
let downGw: RunningGateway;

async function tenancy(): Promise<Awaited<ReturnType<typeof testTenancy>>> {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-keys-'));
  keysDirs.push(dir);
  return testTenancy(dir, KEYS);
}

before(async () => {
  fleet = await startFleet(221, [
    { name: 'closed-0', labels: {}, model: 'model/closed', ttftMs: 0, itlMs: 1 },
    { name: 'closed-1', labels: {}, model: 'model/closed', ttftMs: 0, itlMs: 1 },
    { name: 'open-0', labels: {}, model: 'model/open', ttftMs: 0, itlMs: 1 },
    { name: 'open-1', labels: {}, model: 'model/open', ttftMs: 0, itlMs: 1 },
  ]);
  epp = await scriptedEpp(fleet, `127.0.221.9:${fleet.port}`, '127.0.221.30');
  cfg = await tempConfig({ 'all.yaml': [...fleetDocs(fleet, { port: epp.port }), eppService('127.0.221.30', epp.port)].join('---\n') });
  downCfg = await tempConfig({ 'all.yaml': [...fleetDocs(fleet, { port: 9 }), eppService('127.0.221.31', 9)].join('---\n') });
  // A bound a busy machine cannot trip: an answer the picker gives late would be a FailClose 503, not its own.
  const pickers = { plaintext: true, messageTimeoutMs: 5000 };
  gw = await startTestGateway(cfg.dir, { host: '127.0.221.1', eppServiceName: 'infergate', externalPickers: pickers, tenancy: await tenancy() });
  downGw = await startTestGateway(downCfg.dir, { host: '127.0.221.6', eppServiceName: 'infergate', externalPickers: pickers, tenancy: await tenancy() });
});

after(async () => {
  await gw?.close();
  await downGw?.close();
  epp?.close();
  await fleet?.close();
  await cfg?.remove();
  await downCfg?.remove();
  for (const dir of keysDirs) await rm(dir, { recursive: true, force: true });
});

function assertLimits(headers: Headers | undefined, what: string): void {
  assert.equal(headers?.get('x-ratelimit-limit-requests'), '50', what);
  assert.equal(headers?.get('x-ratelimit-limit-tokens'), '10000', what);
  assert.equal(headers?.get('x-ratelimit-reset-requests'), '30s', what);
  assert.ok(headers?.get('x-ratelimit-remaining-requests'), what);
}

test("the picker is sent the key's objective and the tenant as fairness ID, not the client's headers", async () => {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'ig-refused', maxRetries: 0 });
  const before = epp.streams.length;
  const headers = { 'x-llm-d-inference-objective': 'critical', 'x-gateway-inference-objective': 'critical', 'x-llm-d-inference-fairness-id': 'team-other', 'x-gateway-inference-fairness-id': 'team-other' };
  await client.completions.create({ model: 'model/closed', prompt: 'hi', max_tokens: 1 }, { headers });
  const sent = epp.streams.slice(before).flatMap((s) => s.messages).find((m) => m.request_headers !== undefined);
  const h = readHeaderMap(sent!.request_headers!.headers);
  // Before, the client's four headers went to the picker as sent: a key could raise its priority and take another
  // tenant's queue at an llm-d EPP, whatever its entry said.
  assert.equal(h.get('x-llm-d-inference-objective'), 'batch');
  assert.equal(h.get('x-gateway-inference-objective'), undefined);
  assert.equal(h.get('x-llm-d-inference-fairness-id'), 'team-refused');
  assert.equal(h.get('x-gateway-inference-fairness-id'), undefined);
  assert.equal(h.get('authorization'), undefined);
});

test("the picker's own refusal carries the tenant's x-ratelimit-* headers", async () => {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'ig-refused', maxRetries: 0 });
  const f = await failure(client.completions.create({ model: 'model/closed', prompt: 'hi', max_tokens: 1 }, { headers: { 'x-script': 'shed' } }));
  assert.equal(f.status, 429);
  assert.equal(f.code, 'endpoint_picker_rejected');
  assertLimits(f.headers, 'a 429 shed by the picker');
});

test("the picker's answer in place of the endpoint's carries them too", async () => {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'ig-refused', maxRetries: 0 });
  const f = await failure(client.completions.create({ model: 'model/closed', prompt: 'hi', max_tokens: 1 }, { headers: { 'x-script': 'replace-response' } }));
  assert.equal(f.status, 503);
  assertLimits(f.headers, "a 503 that replaced the endpoint's answer");
});

test("the gateway's 503 when the picker cannot be reached (FailClose) carries them too", async () => {
  const client = new OpenAI({ baseURL: `${downGw.url}/v1`, apiKey: 'ig-refused', maxRetries: 0 });
  const f = await failure(client.completions.create({ model: 'model/closed', prompt: 'hi', max_tokens: 1 }));
  assert.equal(f.status, 503);
  assert.equal(f.code, 'endpoint_picker_unavailable');
  assertLimits(f.headers, 'a 503 under FailClose');
});
