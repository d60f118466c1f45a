/**
 * `--api-keys` in front of a pool another endpoint picker serves (its endpointPickerRef names a Service other
 * than --epp-service-name): the answer carries the tenant's x-ratelimit-* headers as every other answer does.
 * The picker's Service is on 127.0.198.9, where nothing listens, and the pool is FailOpen: the gateway picks.
 * Simulated pods on 127.0.198.x.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { baseModelRouteYaml, podYaml, startFleet, startTestGateway, tempConfig, type Fleet, type TempConfig } from '../helpers/fleet.js';
import { eppService, pool } from '../helpers/external-pickers.js';
import { testTenancy, type TestKey } from '../helpers/tenancy.js';

const M = 'model/open';
const KEYS: TestKey[] = [{ key: 'ig-ext', name: 'team-ext', models: ['*'], extra: { requestsPerMinute: 50, tokensPerMinute: 10_000 } }];

let fleet: Fleet;
let cfg: TempConfig;
let keysDir: string;
let gw: RunningGateway;

before(async () => {
  fleet = await startFleet(198, [{ name: 'open-0', labels: {}, model: M, ttftMs: 0, itlMs: 1 }]);
  cfg = await tempConfig({
    'all.yaml': [podYaml('open-0', fleet.ipOf('open-0'), { pool: 'open' }), pool('open', fleet.port, { port: 9, failureMode: 'FailOpen' }), baseModelRouteYaml('open', M, [['open', 1]]), eppService('127.0.198.9', 9)].join('---\n'),
  });
  keysDir = await mkdtemp(join(tmpdir(), 'infergate-keys-'));
  gw = await startTestGateway(cfg.dir, { host: '127.0.198.1', eppServiceName: 'infergate', externalPickers: { plaintext: true, messageTimeoutMs: 300 }, tenancy: await testTenancy(keysDir, KEYS) });
});

after(async () => {
  await gw?.close();
  await fleet?.close();
  await cfg?.remove();
  if (keysDir) await rm(keysDir, { recursive: true, force: true });
});

test("an answer from a pool another endpoint picker serves carries the tenant's x-ratelimit-* headers", async () => {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'ig-ext', maxRetries: 0 });
  const { response } = await client.completions.create({ model: M, prompt: 'hello', max_tokens: 1 }).withResponse();
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-ratelimit-limit-requests'), '50');
  assert.equal(response.headers.get('x-ratelimit-remaining-requests'), '49');
  assert.equal(response.headers.get('x-ratelimit-limit-tokens'), '10000');
  assert.equal(response.headers.get('x-ratelimit-reset-requests'), '30s');
});
