/**
 * A take that Redis answers only after the bound, with a real redis-server on 127.0.220.10 held up by SIGSTOP: the
 * caller has been told Redis did not answer (fail-open admits the request uncounted, fail-closed refuses it), so
 * what the script counted once Redis ran it is taken back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { RedisLimitStore } from './redis-store.js';
import { windowsAt } from './windows.js';
import { haveRedisServer, startRedis, type TestRedis } from '../../test/helpers/redis-server.js';
import { eventually } from '../../test/helpers/until.js';

const skip = (await haveRedisServer()) ? false : 'redis-server is not installed (apt-get install redis-server)';
let redis: TestRedis | undefined;
let store: RedisLimitStore | undefined;
let admin: Redis | undefined;

before(async () => {
  if (skip) return;
  redis = await startRedis('127.0.220.10');
  store = new RedisLimitStore({ url: redis.url, commandTimeoutMs: 100 });
  await store.ready();
  admin = new Redis(redis.url);
});

after(async () => {
  admin?.disconnect();
  await store?.close();
  await redis?.stop();
});

test('what a take counted after its caller was told Redis did not answer is taken back', { skip }, async () => {
  const pid = Number(/process_id:(\d+)/.exec(await admin!.info('server'))?.[1]);
  assert.ok(pid > 0);
  const w = windowsAt(Date.UTC(2026, 0, 1, 10, 0, 5));
  const tenant = `late-${Math.random()}`;
  const keys = [`infergate:rl:${tenant}:rpm:${w.minute}`, `infergate:rl:${tenant}:tpm:${w.minute}`, `infergate:rl:${tenant}:tpd:${w.day}`];
  process.kill(pid, 'SIGSTOP');
  try {
    await assert.rejects(store!.take(tenant, { requestsPerMinute: 1 }, 5, w), /did not answer within 100 ms/);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  // The script ran once Redis went on (the counters exist), and what it counted was given back (they read 0);
  // before, they stayed at 1 request and 5 tokens: counted for a request its caller took as never counted.
  await eventually('the late take undone', 5000, async () => (await admin!.mget(keys)).every((v) => v === '0'));
  assert.deepEqual(await store!.take(tenant, { requestsPerMinute: 1 }, 5, w), { refused: undefined, requests: 1, tokens: 5, dayTokens: 5 });
});
