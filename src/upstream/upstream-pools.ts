/** One keep-alive undici Pool per endpoint address (and connect timeout, and protocol), created on first use and closed when the endpoint leaves. */
import { Pool } from 'undici';
import { H2cPool } from './h2c.js';

export class UpstreamPools {
  /** origin -> connect timeout (ms) -> Pool. Pools naming an endpoint with different connect timeouts get one Pool each. */
  #pools = new Map<string, Map<number, Pool>>();
  /** The same for endpoints spoken to over h2c (`appProtocol: kubernetes.io/h2c`); HTTP/1.1 pools above are untouched by it. */
  #h2c = new Map<string, Map<number, Pool>>();

  /**
   * The Pool for `origin`. undici takes the connect timeout per Pool; the header and body timeouts are given
   * per request (`headersTimeout`, `bodyTimeout` of each dispatch), since they depend on the request.
   */
  get(origin: string, connectTimeoutMs: number, h2c = false): Pool {
    const pools = h2c ? this.#h2c : this.#pools;
    let byTimeout = pools.get(origin);
    if (!byTimeout) {
      byTimeout = new Map();
      pools.set(origin, byTimeout);
    }
    let p = byTimeout.get(connectTimeoutMs);
    if (!p) {
      p = h2c ? new H2cPool(origin, connectTimeoutMs, 30_000) : new Pool(origin, { connect: { timeout: connectTimeoutMs }, keepAliveTimeout: 30_000 });
      byTimeout.set(connectTimeoutMs, p);
    }
    return p;
  }

  /** Closes an endpoint's pools gracefully: requests already sent on them finish first. */
  release(origin: string): void {
    for (const pools of [this.#pools, this.#h2c]) {
      const byTimeout = pools.get(origin);
      if (!byTimeout) continue;
      pools.delete(origin);
      for (const p of byTimeout.values()) void p.close().catch(() => undefined);
    }
  }

  async closeAll(): Promise<void> {
    const pools = [...this.#pools.values(), ...this.#h2c.values()].flatMap((m) => [...m.values()]);
    this.#pools.clear();
    this.#h2c.clear();
    await Promise.allSettled(pools.map((p) => p.close()));
  }
}
