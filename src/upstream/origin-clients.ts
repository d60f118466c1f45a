/**
 * Keep-alive undici dispatchers by origin for the gateway's own calls to pods (model discovery, metrics scrapes,
 * tokenizer calls),
 * kept while the origin is asked. Not an undici `Agent`: an Agent drops an origin's pool once no connection is
 * left, which every refused connect leaves, so each call to a pod that does not answer built a new pool (with
 * discovery alone asking 500 such pods, about 4 MB/s promoted into the old generation, 0.3 MB/s with one client a
 * pod; docs/benchmarks.md, "Unreachable pods"). Here an origin keeps its
 * dispatcher until it has gone unasked for `idleMs`.
 */
import { Client, Pool, type Dispatcher } from 'undici';
import { h2cOptions } from './h2c.js';

export interface OriginClientsOptions {
  /** Connections per origin: 1 gives a `Client`, more a `Pool` of that many. */
  connections: number;
  /** How long an idle connection is kept (ms). */
  keepAliveTimeoutMs: number;
  /** An origin's dispatcher is closed once unasked for this long (ms; default 30 s). */
  idleMs?: number;
  /** How often at most `of` looks for such origins (ms; default 10 s). */
  sweepMs?: number;
}

const IDLE_MS = 30_000;
const SWEEP_MS = 10_000;

export class OriginClients {
  readonly #o: Required<OriginClientsOptions>;
  readonly #byOrigin = new Map<string, { dispatcher: Dispatcher; usedAt: number }>();
  #sweptAt = Date.now();

  constructor(options: OriginClientsOptions) {
    this.#o = { idleMs: IDLE_MS, sweepMs: SWEEP_MS, ...options };
  }

  /** The dispatcher for `origin` (HTTP/2 cleartext with prior knowledge when `h2c`), made on first use. */
  of(origin: string, h2c: boolean): Dispatcher {
    const now = Date.now();
    if (now - this.#sweptAt >= this.#o.sweepMs) this.#sweep(now);
    const key = h2c ? `h2c ${origin}` : origin;
    let entry = this.#byOrigin.get(key);
    if (!entry) {
      const opts = { keepAliveTimeout: this.#o.keepAliveTimeoutMs, ...(h2c ? h2cOptions(undefined) : {}) };
      entry = { dispatcher: this.#o.connections === 1 ? new Client(origin, opts) : new Pool(origin, { ...opts, connections: this.#o.connections }), usedAt: now };
      this.#byOrigin.set(key, entry);
    }
    entry.usedAt = now;
    return entry.dispatcher;
  }

  /** Origins with a dispatcher now (tests). */
  get size(): number {
    return this.#byOrigin.size;
  }

  #sweep(now: number): void {
    this.#sweptAt = now;
    for (const [key, { dispatcher, usedAt }] of this.#byOrigin) {
      if (now - usedAt < this.#o.idleMs) continue;
      this.#byOrigin.delete(key);
      void dispatcher.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const all = [...this.#byOrigin.values()].map((e) => e.dispatcher);
    this.#byOrigin.clear();
    await Promise.allSettled(all.map((d) => d.close()));
  }
}
