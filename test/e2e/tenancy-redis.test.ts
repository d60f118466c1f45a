/**
 * Limits shared through a real Redis (Debian's redis-server on 127.0.101.20, a free port): a limit reached
 * through replica A is enforced on replica B, and with Redis stopped mid-test fail-open admits while
 * fail-closed answers 503; once Redis is back, limits are enforced again. Simulated pods on 127.0.101.x.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';
import { haveRedisServer, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { testTenancy, type TestKey } from '../helpers/tenancy.js';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const KEYS: TestKey[] = [{ key: 'ig-shared', name: 'team-shared', models: ['*'], extra: { requestsPerMinute: 3 } }];

let redis: TestRedis | undefined;
let fleet: Fleet | undefined;
let cfg: TempConfig | undefined;
let keysDir: string | undefined;
let a: RunningGateway | undefined;
let b: RunningGateway | undefined;
const skip = (await haveRedisServer()) ? false : 'redis-server is not installed (apt-get install redis-server)';

before(async () => {
  if (skip) return;
  redis = await startRedis('127.0.101.20');
  fleet = await startFleet(101, [{ name: 'llama-0', labels: {}, model: MODEL, ttftMs: 1, itlMs: 1 }]);
  cfg = await tempConfig({ 'all.yaml': [podYaml('llama-0', fleet.ipOf('llama-0'), { app: 'llama' }), poolYaml('llama', { app: 'llama' }, fleet.port), baseModelRouteYaml('llama', MODEL, [['llama', 1]])].join('---\n') });
  keysDir = await mkdtemp(join(tmpdir(), 'infergate-keys-'));
  // Two replicas of one gateway sharing the store; A admits while Redis is down, B refuses.
  a = await startTestGateway(cfg.dir, { tenancy: await testTenancy(join(keysDir), KEYS, { redisUrl: redis.url, failure: 'fail-open' }) });
  const dirB = await mkdtemp(join(keysDir, 'b-'));
  b = await startTestGateway(cfg.dir, { tenancy: await testTenancy(dirB, KEYS, { redisUrl: redis.url, failure: 'fail-closed' }) });
});

after(async () => {
  await a?.close();
  await b?.close();
  await fleet?.close();
  await cfg?.remove();
  await redis?.stop();
  if (keysDir) await rm(keysDir, { recursive: true, force: true });
});

const client = (gw: RunningGateway): OpenAI => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'ig-shared', maxRetries: 0 });
const ask = (gw: RunningGateway) => client(gw).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 }).withResponse();

test('a limit reached through replica A is enforced on replica B', { skip }, async () => {
  assert.equal((await ask(a!)).response.headers.get('x-ratelimit-remaining-requests'), '2');
  assert.equal((await ask(a!)).response.headers.get('x-ratelimit-remaining-requests'), '1');
  assert.equal((await ask(b!)).response.headers.get('x-ratelimit-remaining-requests'), '0');
  for (const gw of [b!, a!]) {
    await assert.rejects(ask(gw), (e: unknown) => {
      assert.ok(e instanceof OpenAI.RateLimitError, String(e));
      assert.equal(e.code, 'rate_limit_exceeded');
      assert.equal(e.headers.get('x-ratelimit-remaining-requests'), '0');
      assert.ok(Number(e.headers.get('retry-after')) > 0);
      return true;
    });
  }
});

test('Redis stopped mid-test: fail-open admits, fail-closed answers 503; limits return with Redis', { skip }, async () => {
  await redis!.stop();
  // Over the limit, yet admitted uncounted: nothing can count it.
  const open = await ask(a!);
  assert.equal(open.response.status, 200);
  assert.equal(open.response.headers.get('x-ratelimit-limit-requests'), null);
  await assert.rejects(ask(b!), (e: unknown) => {
    assert.ok(e instanceof OpenAI.InternalServerError, String(e));
    assert.equal(e.status, 503);
    assert.equal(e.code, 'rate_limit_store_unavailable');
    return true;
  });
  const text = await a!.metrics.registry.metrics();
  assert.match(text, /infergate_rate_limit_store_errors_total [1-9]/);
  // An empty Redis again (no persistence): counting starts over, through either replica.
  await redis!.restart();
  assert.ok(
    await waitFor(async () => {
      try {
        return (await ask(b!)).response.headers.get('x-ratelimit-remaining-requests') !== null;
      } catch {
        return false;
      }
    }, 10_000),
    'replica B admits again once Redis is back',
  );
});
