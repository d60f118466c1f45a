/**
 * The Redis store's bound on a command against a busy event loop, with a real redis-server on 127.0.197.20: a
 * reply that came in time is taken even when the loop was held up past the bound before it could read it
 * (a burst of requests), and a Redis that does not answer is still refused after the bound.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { RedisLimitStore } from './redis-store.js';
import { windowsAt } from './windows.js';
import { haveRedisServer, startRedis, type TestRedis } from '../../test/helpers/redis-server.js';

const skip = (await haveRedisServer()) ? false : 'redis-server is not installed (apt-get install redis-server)';
let redis: TestRedis | undefined;
let store: RedisLimitStore | undefined;

before(async () => {
  if (skip) return;
  redis = await startRedis('127.0.197.20');
  store = new RedisLimitStore({ url: redis.url, commandTimeoutMs: 100 });
  await store.ready();
});

after(async () => {
  await store?.close();
  await redis?.stop();
});

/**
 * How long the loop is held past the 100 ms bound: long enough that Redis has answered into the socket even on a
 * loaded machine (400 ms was not always, beside CI's other jobs), so what is tested is the reading, not Redis.
 */
const HOLD_MS = 1000;

/** Holds the event loop, as a burst of requests does: timers fall due, replies wait unread in the socket. */
function holdLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('a reply that came in time is taken even when the loop could only read it after the bound', { skip }, async () => {
  const w = windowsAt(Date.UTC(2026, 0, 1, 10, 0, 5));
  const tenant = `busy-${Math.random()}`;
  const taken = store!.take(tenant, { requestsPerMinute: 1 }, 5, w);
  holdLoop(HOLD_MS);
  // Counted in Redis and admitted here: before, the due timer refused it first (fail-open then admitted it uncounted).
  assert.deepEqual(await taken, { refused: undefined, requests: 1, tokens: 5, dayTokens: 5 });
  const refused = store!.take(tenant, { requestsPerMinute: 1 }, 5, w);
  holdLoop(HOLD_MS);
  assert.equal((await refused).refused, 'requests');
  const giveBack = store!.giveBackRequest(tenant, w, w);
  holdLoop(HOLD_MS);
  await giveBack;
  const adjust = store!.adjust(tenant, 7, w, w);
  holdLoop(HOLD_MS);
  await adjust;
  assert.deepEqual(await store!.take(tenant, { requestsPerMinute: 1 }, 0, w), { refused: undefined, requests: 1, tokens: 12, dayTokens: 12 });
});

test('a Redis that does not answer is refused after the bound', { skip }, async () => {
  // SIGSTOP: the connection stays up, nothing answers.
  const admin = new Redis(redis!.url);
  const pid = Number(/process_id:(\d+)/.exec(await admin.info('server'))?.[1]);
  admin.disconnect();
  assert.ok(pid > 0);
  process.kill(pid, 'SIGSTOP');
  try {
    await assert.rejects(store!.take(`stopped-${Math.random()}`, { requestsPerMinute: 1 }, 1, windowsAt(Date.UTC(2026, 0, 1, 10, 0, 5))), /did not answer within 100 ms/);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
});
