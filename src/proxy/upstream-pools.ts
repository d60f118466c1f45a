/** One keep-alive undici Pool per endpoint address, created on first use and closed when the endpoint leaves. */
import { Pool } from 'undici';

export interface UpstreamOptions {
  connectTimeoutMs: number;
  /** Applies to both response headers and gaps between body chunks: a non-streamed completion sends its headers only when generation ends. */
  responseTimeoutMs: number;
}

export class UpstreamPools {
  #pools = new Map<string, Pool>();
  #opts: UpstreamOptions;

  constructor(opts: UpstreamOptions) {
    this.#opts = opts;
  }

  get(origin: string): Pool {
    let p = this.#pools.get(origin);
    if (!p) {
      p = new Pool(origin, {
        connect: { timeout: this.#opts.connectTimeoutMs },
        headersTimeout: this.#opts.responseTimeoutMs,
        bodyTimeout: this.#opts.responseTimeoutMs,
        keepAliveTimeout: 30_000,
      });
      this.#pools.set(origin, p);
    }
    return p;
  }

  /** Closes a pool gracefully: requests already sent on it finish first. */
  release(origin: string): void {
    const p = this.#pools.get(origin);
    if (!p) return;
    this.#pools.delete(origin);
    void p.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.allSettled(pools.map((p) => p.close()));
  }
}
