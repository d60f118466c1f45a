/** One keep-alive undici Pool per endpoint address (and connect timeout), created on first use and closed when the endpoint leaves. */
import { Pool } from 'undici';

export class UpstreamPools {
  /** origin -> connect timeout (ms) -> Pool. Pools naming an endpoint with different connect timeouts get one Pool each. */
  #pools = new Map<string, Map<number, Pool>>();

  /**
   * The Pool for `origin`. undici takes the connect timeout per Pool; the header and body timeouts are given
   * per request (`headersTimeout`, `bodyTimeout` of each dispatch), since they depend on the request.
   */
  get(origin: string, connectTimeoutMs: number): Pool {
    let byTimeout = this.#pools.get(origin);
    if (!byTimeout) {
      byTimeout = new Map();
      this.#pools.set(origin, byTimeout);
    }
    let p = byTimeout.get(connectTimeoutMs);
    if (!p) {
      p = new Pool(origin, { connect: { timeout: connectTimeoutMs }, keepAliveTimeout: 30_000 });
      byTimeout.set(connectTimeoutMs, p);
    }
    return p;
  }

  /** Closes an endpoint's pools gracefully: requests already sent on them finish first. */
  release(origin: string): void {
    const byTimeout = this.#pools.get(origin);
    if (!byTimeout) return;
    this.#pools.delete(origin);
    for (const p of byTimeout.values()) void p.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    const pools = [...this.#pools.values()].flatMap((m) => [...m.values()]);
    this.#pools.clear();
    await Promise.allSettled(pools.map((p) => p.close()));
  }
}
