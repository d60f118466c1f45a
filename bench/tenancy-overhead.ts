/**
 * The CPU `--api-keys` adds to a request, in memory: authenticate (SHA-256 of the key, lookup), the header
 * step (credential stripped, objective set), admission (model check, the tenant's windows counted, the
 * x-ratelimit-* headers built) and the usage correction at the end — what the handler runs per request with
 * keys on, timed in a loop with process.cpuUsage (target: at most 20 µs per request, issue #15). With
 * --redis, also the wall-clock p50/p99 of an admission through a real redis-server on 127.0.101.30 (the Redis
 * path's added latency). Loopback only.
 *
 *   npx tsc -p . && node dist/bench/tenancy-overhead.js [--requests 200000] [--tenants 100] [--redis]
 */
import { benchArgs } from './lib/bench-args.js';
import { createLogger } from '../src/logger.js';
import { newRequestRecord } from '../src/observability/request-record.js';
import type { RoutePlan } from '../src/plan/plan-request.js';
import { hashApiKey } from '../src/tenancy/api-key.js';
import { parseKeyFile } from '../src/tenancy/key-file.js';
import { KeySet } from '../src/tenancy/key-set.js';
import type { LimitStore } from '../src/tenancy/limit-store.js';
import { MemoryLimitStore } from '../src/tenancy/memory-store.js';
import { RedisLimitStore } from '../src/tenancy/redis-store.js';
import { admitRequest, tenantHeaders } from '../src/plan/tenancy-stage.js';
import { Tenancy } from '../src/tenancy/tenancy.js';
import { percentiles } from '../src/bench/percentiles.js';
import { startRedis } from '../test/helpers/redis-server.js';

const { values } = benchArgs({ options: { requests: { type: 'string', default: '200000' }, tenants: { type: 'string', default: '100' }, redis: { type: 'boolean', default: false } } });
const requests = Number(values.requests);
const tenants = Number(values.tenants);

const yaml = `keys:\n${Array.from({ length: tenants }, (_, i) => `  - name: tenant-${i}\n    keyHash: ${hashApiKey(`ig-key-${i}`)}\n    models: ["meta-llama/*", "Qwen/Qwen3-8B"]\n    requestsPerMinute: 1000000000\n    tokensPerMinute: 1000000000\n    tokensPerDay: 1000000000\n    objective: standard\n`).join('')}`;
const keys = { keys: new KeySet(parseKeyFile(yaml, 'bench')), problem: undefined, close: () => undefined };
const log = createLogger('silent');

function tenancyWith(store: LimitStore): Tenancy {
  return new Tenancy({ keys, store, log });
}

/** One request's tenancy work, as the handler does it with keys on. */
function once(t: Tenancy, i: number): void | Promise<void> {
  const headers = { authorization: `Bearer ig-key-${i % tenants}`, 'content-type': 'application/json', host: 'gw' };
  const entry = t.authenticate(headers);
  const lower = new Map<string, string>([['authorization', headers.authorization], ['content-type', 'application/json'], ['x-llm-d-inference-objective', 'critical']]);
  const upstream: Record<string, string | string[]> = { ...headers };
  tenantHeaders(t, entry, lower, upstream);
  const plan = { steps: [], tracing: false, priority: 0, routingHeaders: {}, model: 'meta-llama/Llama-3.1-8B-Instruct' } as RoutePlan;
  const record = newRequestRecord(`r${i}`, 'POST', '/v1/chat/completions', '127.0.0.1');
  const a = admitRequest(t, entry, plan, 600, record);
  const end = (): void => {
    record.status = 200;
    record.usage = { promptTokens: 120, completionTokens: 40 };
    t.ended(record);
  };
  if (a instanceof Promise) return a.then(end);
  end();
}

/** The same request without tenancy: the record alone, so the figure is tenancy's own. */
function baseline(i: number): void {
  const record = newRequestRecord(`r${i}`, 'POST', '/v1/chat/completions', '127.0.0.1');
  record.status = 200;
}

function cpuPerRequest(fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(20_000, requests); i++) fn(i); // warm-up
  const start = process.cpuUsage();
  for (let i = 0; i < requests; i++) fn(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / requests;
}

const memory = tenancyWith(new MemoryLimitStore());
const base = cpuPerRequest(baseline);
const withKeys = cpuPerRequest((i) => void once(memory, i));
console.log(`| path | requests | tenants | CPU per request |`);
console.log(`|---|---|---|---|`);
console.log(`| in memory: auth + model check + limits + usage correction | ${requests} | ${tenants} | ${(withKeys - base).toFixed(2)} µs (${withKeys.toFixed(2)} µs with the record, ${base.toFixed(2)} µs without tenancy) |`);

if (values.redis) {
  const redis = await startRedis('127.0.101.30');
  const store = new RedisLimitStore({ url: redis.url });
  try {
    await store.ready();
    const t = tenancyWith(store);
    const n = Math.min(requests, 20_000);
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      await once(t, i);
      times.push((performance.now() - s) * 1000);
    }
    const p = percentiles(times);
    console.log(`| Redis (one gateway, sequential): admission wall-clock, round trip included | ${n} | ${tenants} | p50 ${p.p50.toFixed(0)} µs, p99 ${p.p99.toFixed(0)} µs |`);
  } finally {
    await store.close();
    await redis.stop();
  }
}
