/** A Tenancy for end-to-end tests: a keys file in a temp dir, an in-memory or Redis store, and a frozen clock so windows never roll mid-test. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../src/logger.js';
import { hashApiKey } from '../../src/tenancy/api-key.js';
import { KeyFileSource } from '../../src/tenancy/key-file-source.js';
import { MemoryLimitStore } from '../../src/tenancy/memory-store.js';
import { RedisLimitStore } from '../../src/tenancy/redis-store.js';
import { Tenancy, type StoreFailureMode } from '../../src/tenancy/tenancy.js';

/** One entry of a keys file: the key in clear (the test's client sends it) and the YAML fields beside its hash. */
export interface TestKey {
  key: string;
  name: string;
  models: string[];
  extra?: Record<string, number | string | boolean>;
}

export function keysYaml(keys: readonly TestKey[]): string {
  return `keys:\n${keys
    .map((k) => [`  - name: ${k.name}`, `    keyHash: ${hashApiKey(k.key)}`, `    models: ${JSON.stringify(k.models)}`, ...Object.entries(k.extra ?? {}).map(([f, v]) => `    ${f}: ${JSON.stringify(v)}`)].join('\n'))
    .join('\n')}\n`;
}

/** 10:00:30 UTC on a fixed day: 30 s left in the minute, whatever the machine's clock says. */
export const FROZEN_NOW = Date.UTC(2026, 0, 1, 10, 0, 30);

export async function testTenancy(dir: string, keys: readonly TestKey[], store?: { redisUrl: string; failure: StoreFailureMode }): Promise<Tenancy> {
  const file = join(dir, 'api-keys.yaml');
  await writeFile(file, keysYaml(keys));
  const log = createLogger((process.env.INFERGATE_TEST_LOG as 'debug' | undefined) ?? 'silent');
  const source = await KeyFileSource.open(file, log, 50);
  if (store === undefined) return new Tenancy({ keys: source, store: new MemoryLimitStore(), log, now: () => FROZEN_NOW });
  const redis = new RedisLimitStore({ url: store.redisUrl, commandTimeoutMs: 200 });
  await redis.ready();
  return new Tenancy({ keys: source, store: redis, failure: store.failure, log, now: () => FROZEN_NOW });
}
