/** The default limit store: counters in this process's memory, synchronous, per replica. */
import type { TenantLimits } from './key-entry.js';
import type { LimitStore, TakeResult } from './limit-store.js';
import type { Windows } from './windows.js';

interface Counters {
  minute: number;
  requests: number;
  tokens: number;
  day: number;
  dayTokens: number;
}

export class MemoryLimitStore implements LimitStore {
  readonly #tenants = new Map<string, Counters>();

  take(tenant: string, limits: TenantLimits, tokens: number, w: Windows): TakeResult {
    const c = this.#current(tenant, w);
    const refused =
      limits.requestsPerMinute !== undefined && c.requests + 1 > limits.requestsPerMinute
        ? 'requests'
        : limits.tokensPerMinute !== undefined && c.tokens + tokens > limits.tokensPerMinute
          ? 'tokens'
          : limits.tokensPerDay !== undefined && c.dayTokens + tokens > limits.tokensPerDay
            ? 'daily_tokens'
            : undefined;
    if (refused === undefined) {
      c.requests++;
      c.tokens += tokens;
      c.dayTokens += tokens;
    }
    return { refused, requests: c.requests, tokens: c.tokens, dayTokens: c.dayTokens };
  }

  adjust(tenant: string, delta: number, counted: Windows, now: Windows): void {
    const c = this.#current(tenant, now);
    if (delta >= 0 || c.minute === counted.minute) c.tokens = Math.max(0, c.tokens + delta);
    if (delta >= 0 || c.day === counted.day) c.dayTokens = Math.max(0, c.dayTokens + delta);
  }

  giveBackRequest(tenant: string, counted: Windows, now: Windows): void {
    if (counted.minute !== now.minute) return;
    const c = this.#current(tenant, now);
    c.requests = Math.max(0, c.requests - 1);
  }

  async close(): Promise<void> {}

  #current(tenant: string, w: Windows): Counters {
    let c = this.#tenants.get(tenant);
    if (c === undefined) {
      c = { minute: w.minute, requests: 0, tokens: 0, day: w.day, dayTokens: 0 };
      this.#tenants.set(tenant, c);
    }
    if (c.minute !== w.minute) {
      c.minute = w.minute;
      c.requests = 0;
      c.tokens = 0;
    }
    if (c.day !== w.day) {
      c.day = w.day;
      c.dayTokens = 0;
    }
    return c;
  }
}
