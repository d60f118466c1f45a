/**
 * A Tenancy for end-to-end tests: a keys file in a temp dir, an in-memory or Redis store, and a frozen clock so
 * windows never roll mid-test; and a gateway with one in front of two models (startTenantGateway).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { RunningGateway, StartGatewayOptions } from '../../src/cli/start-gateway.js';
import { createLogger } from '../../src/logger.js';
import { hashApiKey } from '../../src/tenancy/api-key.js';
import { KeyFileSource } from '../../src/tenancy/key-file-source.js';
import { MemoryLimitStore } from '../../src/tenancy/memory-store.js';
import { RedisLimitStore } from '../../src/tenancy/redis-store.js';
import { Tenancy, type StoreFailureMode } from '../../src/tenancy/tenancy.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, type Fleet, type TempConfig } from './fleet.js';

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

/** A Tenancy on `keys`, written to `dir`/api-keys.yaml (watched), with an in-memory store or `store`'s Redis. */
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

export const LLAMA = 'meta-llama/Llama-3.1-8B-Instruct';
export const QWEN = 'Qwen/Qwen3-8B';

/** A gateway with API keys in front of two tenants' worth of models, and what the tests read of it. */
export interface TenantGateway {
  gw: RunningGateway;
  tenancy: Tenancy;
  /** The keys file the gateway watches. */
  keysFile: string;
  /** The openai client with `apiKey`, no retries. */
  client(apiKey: string): OpenAI;
  close(): Promise<void>;
}

/**
 * Simulated pods llama-0 (LLAMA) and qwen-0 (QWEN) on 127.0.<octet>.x, a pool and a base-model route each, and
 * a test gateway (`opts`) whose tenancy has `keys` (testTenancy, in memory).
 */
export async function startTenantGateway(octet: number, keys: readonly TestKey[], opts: Partial<StartGatewayOptions> = {}): Promise<TenantGateway> {
  let fleet: Fleet | undefined;
  let cfg: TempConfig | undefined;
  let keysDir: string | undefined;
  let gw: RunningGateway | undefined;
  const close = async (): Promise<void> => {
    await gw?.close();
    await fleet?.close();
    await cfg?.remove();
    if (keysDir) await rm(keysDir, { recursive: true, force: true });
  };
  try {
    fleet = await startFleet(octet, [
      { name: 'llama-0', labels: {}, model: LLAMA, ttftMs: 1, itlMs: 1 },
      { name: 'qwen-0', labels: {}, model: QWEN, ttftMs: 1, itlMs: 1 },
    ]);
    cfg = await tempConfig({
      'all.yaml': [
        podYaml('llama-0', fleet.ipOf('llama-0'), { app: 'llama' }),
        podYaml('qwen-0', fleet.ipOf('qwen-0'), { app: 'qwen' }),
        poolYaml('llama', { app: 'llama' }, fleet.port),
        poolYaml('qwen', { app: 'qwen' }, fleet.port),
        baseModelRouteYaml('llama', LLAMA, [['llama', 1]]),
        baseModelRouteYaml('qwen', QWEN, [['qwen', 1]]),
      ].join('---\n'),
    });
    keysDir = await mkdtemp(join(tmpdir(), 'infergate-keys-'));
    const tenancy = await testTenancy(keysDir, keys);
    gw = await startTestGateway(cfg.dir, { ...opts, tenancy });
    const url = gw.url;
    return { gw, tenancy, keysFile: join(keysDir, 'api-keys.yaml'), client: (apiKey) => new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 }), close };
  } catch (e) {
    await close();
    throw e;
  }
}
