/** One contract suite for every LimitStore: in memory, and Redis (a real redis-server on 127.0.101.9) when installed. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LimitStore } from './limit-store.js';
import { MemoryLimitStore } from './memory-store.js';
import { RedisLimitStore } from './redis-store.js';
import { windowsAt } from './windows.js';
import { haveRedisServer, startRedis, type TestRedis } from '../../test/helpers/redis-server.js';

function contract(name: string, make: () => Promise<LimitStore>, skip: () => string | false): void {
  describe(`LimitStore contract: ${name}`, () => {
    test('requests per minute: the limit admits exactly that many, then refuses without counting', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const s = await make();
      const w = windowsAt(Date.UTC(2026, 0, 1, 10, 0, 5));
      const tenant = `rpm-${Math.random()}`;
      for (let i = 1; i <= 3; i++) assert.deepEqual(await s.take(tenant, { requestsPerMinute: 3 }, 10, w), { refused: undefined, requests: i, tokens: 10 * i, dayTokens: 10 * i });
      assert.equal((await s.take(tenant, { requestsPerMinute: 3 }, 10, w)).refused, 'requests');
      // The next minute starts again; the day keeps counting.
      const next = windowsAt(Date.UTC(2026, 0, 1, 10, 1, 0));
      assert.deepEqual(await s.take(tenant, { requestsPerMinute: 3 }, 10, next), { refused: undefined, requests: 1, tokens: 10, dayTokens: 40 });
      await s.close();
    });

    test('tokens per minute and per day refuse a request that would overrun them; adjust corrects the count', async (t) => {
      if (skip()) return t.skip(skip() as string);
      const s = await make();
      const tenant = `tok-${Math.random()}`;
      const w = windowsAt(Date.UTC(2026, 0, 1, 10, 0, 5));
      assert.equal((await s.take(tenant, { tokensPerMinute: 100, tokensPerDay: 150 }, 80, w)).refused, undefined);
      assert.equal((await s.take(tenant, { tokensPerMinute: 100, tokensPerDay: 150 }, 30, w)).refused, 'tokens');
      // The response used only 20: 60 refunded, in the same minute.
      await s.adjust(tenant, -60, w, w);
      assert.equal((await s.take(tenant, { tokensPerMinute: 100, tokensPerDay: 150 }, 30, w)).tokens, 50);
      const later = windowsAt(Date.UTC(2026, 0, 1, 10, 5, 0));
      // A refund for a past minute leaves the new minute alone but still returns the day's tokens.
      await s.adjust(tenant, -10, w, later);
      const r = await s.take(tenant, { tokensPerMinute: 200, tokensPerDay: 150 }, 120, later);
      assert.equal(r.refused, 'daily_tokens');
      assert.equal(r.dayTokens, 40);
      await s.close();
    });
  });
}

let redis: TestRedis | undefined;
let why: string | false = false;
before(async () => {
  if (!(await haveRedisServer())) why = 'redis-server is not installed (apt-get install redis-server)';
  else redis = await startRedis('127.0.101.9');
});
after(async () => {
  await redis?.stop();
});

contract('memory', async () => new MemoryLimitStore(), () => false);
contract('redis', async () => {
  const s = new RedisLimitStore({ url: redis!.url });
  await s.ready();
  return s;
}, () => why);
