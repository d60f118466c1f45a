/**
 * Limits shared by every replica through Redis (`--rate-limit-store redis://...`): one Lua script checks and
 * counts a request's three windows atomically, so two replicas can never both admit the last request of a
 * limit. Keys expire with their window. Commands fail fast while Redis is unreachable (no offline queue),
 * and the caller applies `--rate-limit-store-failure`.
 */
import { Redis } from 'ioredis';
import type { TenantLimits } from './key-entry.js';
import type { LimitReason, LimitStore, TakeResult } from './limit-store.js';
import { MINUTE_MS, type Windows } from './windows.js';

/** KEYS: requests this minute, tokens this minute, tokens today. ARGV: rpm, tpm, tpd (0 = none), tokens, minute ttl ms, day ttl ms. */
const TAKE = `
local r = tonumber(redis.call('GET', KEYS[1]) or '0')
local t = tonumber(redis.call('GET', KEYS[2]) or '0')
local d = tonumber(redis.call('GET', KEYS[3]) or '0')
local rpm, tpm, tpd, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if rpm > 0 and r + 1 > rpm then return {1, r, t, d} end
if tpm > 0 and t + n > tpm then return {2, r, t, d} end
if tpd > 0 and d + n > tpd then return {3, r, t, d} end
r = redis.call('INCR', KEYS[1])
t = redis.call('INCRBY', KEYS[2], n)
d = redis.call('INCRBY', KEYS[3], n)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PEXPIRE', KEYS[3], ARGV[6])
return {0, r, t, d}
`;

/** KEYS: a tokens (or requests) counter. ARGV: delta, ttl ms. Never below 0 (a refund larger than what is left). */
const ADJUST = `
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if v < 0 then redis.call('SET', KEYS[1], 0) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return v
`;

/**
 * KEYS: the three counters of a take. ARGV: its tokens. Takes back what a take counted after the store had already
 * answered its caller that Redis did not answer in time (see `take`); a counter that has expired is left alone.
 */
const UNTAKE = `
local by = {1, tonumber(ARGV[1]), tonumber(ARGV[1])}
for i = 1, 3 do
  if by[i] > 0 and redis.call('EXISTS', KEYS[i]) == 1 then
    local v = redis.call('DECRBY', KEYS[i], by[i])
    -- Back to 0, never below (a refund came first); INCRBY keeps the counter's expiry, as SET would not.
    if v < 0 then redis.call('INCRBY', KEYS[i], -v) end
  end
end
return 0
`;

const REASONS: readonly (LimitReason | undefined)[] = [undefined, 'requests', 'tokens', 'daily_tokens'];

export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port[/db]` */
  url: string;
  /** Each command's bound (ms): past it the store is taken as unreachable. Default 250. */
  commandTimeoutMs?: number;
  /**
   * The password (Redis AUTH), when it is not in `url`: read from a file or the environment, so that `ps` does not
   * show it as it shows a URL on the command line.
   */
  password?: string;
  /** Key prefix, so several gateways can share one Redis. Default `infergate:rl:`. */
  prefix?: string;
  /** Told when Redis becomes unreachable or reachable again (never a key or a password). */
  onState?: (up: boolean, detail: string) => void;
}

export class RedisLimitStore implements LimitStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #timeoutMs: number;

  constructor(o: RedisStoreOptions) {
    this.#prefix = o.prefix ?? 'infergate:rl:';
    this.#timeoutMs = o.commandTimeoutMs ?? 250;
    this.#redis = new Redis(o.url, {
      ...(o.password !== undefined ? { password: o.password } : {}),
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // No ioredis commandTimeout: #bounded decides (see there). ioredis's would only drop a late reply, which take
      // needs to undo what it counted; it frees nothing (the command stays queued until its reply or a disconnect).
      connectTimeout: 1000,
      // Reconnect for as long as the gateway runs, at most every 2 s.
      retryStrategy: (n) => Math.min(100 * n, 2000),
    });
    let up: boolean | undefined;
    this.#redis.on('ready', () => {
      if (up !== true) o.onState?.(true, 'connected');
      up = true;
    });
    this.#redis.on('error', (e: Error) => {
      if (up !== false) o.onState?.(false, e.message);
      up = false;
    });
    this.#redis.defineCommand('infergateTake', { numberOfKeys: 3, lua: TAKE });
    this.#redis.defineCommand('infergateAdjust', { numberOfKeys: 1, lua: ADJUST });
    this.#redis.defineCommand('infergateUntake', { numberOfKeys: 3, lua: UNTAKE });
  }

  /** Resolves once connected (tests, and the CLI's check at start); rejects after `timeoutMs`. */
  async ready(timeoutMs = 5000): Promise<void> {
    if (this.#redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.#redis.off('ready', ok);
        reject(new Error(`Redis did not become ready within ${timeoutMs} ms`));
      }, timeoutMs);
      const ok = (): void => {
        clearTimeout(t);
        resolve();
      };
      this.#redis.once('ready', ok);
    });
  }

  /**
   * `reply`, or a rejection when it has not come `#timeoutMs` after the command went. The timer does not decide
   * alone: it waits for the I/O of that turn of the event loop (setImmediate runs after it). A loop held up by a
   * burst of requests runs its due timers before it reads the replies already in the socket, and ioredis's own
   * commandTimeout, deciding there, took a Redis that had answered in a millisecond for one that had not: under
   * fail-open every such request was admitted uncounted, 50 admitted of a requestsPerMinute of 10 in a burst of
   * 400 across two replicas.
   *
   * `late` gets a reply that came after the rejection: Redis ran the command all the same.
   */
  #bounded<T>(reply: Promise<T>, late?: (v: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        setImmediate(() => {
          if (settled) return;
          settled = true;
          reject(new Error(`Redis did not answer within ${this.#timeoutMs} ms`));
        });
      }, this.#timeoutMs);
      reply.then(
        (v) => {
          clearTimeout(timer);
          if (settled) {
            late?.(v);
            return;
          }
          settled = true;
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          if (settled) return;
          settled = true;
          reject(e as Error);
        },
      );
    });
  }

  /**
   * A take whose reply comes after the bound has been answered as a rejection (the caller admitted the request
   * uncounted, fail-open, or refused it, fail-closed), but the script ran in Redis all the same: what it counted is
   * taken back when its reply comes, or the request would be counted as well (and fail-open would add its usage
   * on top at its end, its prompt counted twice).
   */
  async take(tenant: string, limits: TenantLimits, tokens: number, w: Windows): Promise<TakeResult> {
    const p = this.#prefix + tenant;
    const keys = [`${p}:rpm:${w.minute}`, `${p}:tpm:${w.minute}`, `${p}:tpd:${w.day}`] as const;
    const s = this.#redis as unknown as RedisScripts;
    const untake = (late: unknown): void => {
      if ((late as number[])[0] !== 0) return;
      // Not bounded, nobody waits for it; if it fails too, the counters keep the request until its windows end.
      s.infergateUntake(...keys, tokens).catch(() => undefined);
    };
    const out = (await this.#bounded(s.infergateTake(
      ...keys,
      limits.requestsPerMinute ?? 0,
      limits.tokensPerMinute ?? 0,
      limits.tokensPerDay ?? 0,
      tokens,
      w.minuteResetMs + MINUTE_MS,
      w.dayResetMs + MINUTE_MS,
    ), untake)) as number[];
    return { refused: REASONS[out[0]!], requests: out[1]!, tokens: out[2]!, dayTokens: out[3]! };
  }

  async adjust(tenant: string, delta: number, counted: Windows, now: Windows): Promise<void> {
    if (delta === 0) return;
    const p = this.#prefix + tenant;
    const s = this.#redis as unknown as RedisScripts;
    const jobs: Promise<unknown>[] = [];
    if (delta > 0 || counted.minute === now.minute) jobs.push(s.infergateAdjust(`${p}:tpm:${now.minute}`, delta, now.minuteResetMs + MINUTE_MS));
    if (delta > 0 || counted.day === now.day) jobs.push(s.infergateAdjust(`${p}:tpd:${now.day}`, delta, now.dayResetMs + MINUTE_MS));
    await this.#bounded(Promise.all(jobs));
  }

  async giveBackRequest(tenant: string, counted: Windows, now: Windows): Promise<void> {
    if (counted.minute !== now.minute) return;
    await this.#bounded((this.#redis as unknown as RedisScripts).infergateAdjust(`${this.#prefix}${tenant}:rpm:${now.minute}`, -1, now.minuteResetMs + MINUTE_MS));
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}

interface RedisScripts {
  infergateTake(...args: (string | number)[]): Promise<unknown>;
  infergateAdjust(...args: (string | number)[]): Promise<unknown>;
  infergateUntake(...args: (string | number)[]): Promise<unknown>;
}
