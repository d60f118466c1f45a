/**
 * One scrape's work, wherever it runs (the request thread or the scraping worker): GET an endpoint's /metrics,
 * parse the text and extract the scheduler's numbers. Plain data in and out, so it can cross a thread.
 */
import { Client } from 'undici';
import type { EngineMetricMap } from './engine-metrics.js';
import { extractEndpointMetrics, type EngineReading } from './extract-endpoint-metrics.js';
import { getText } from './get-text.js';
import { parsePrometheusText } from './prometheus-parser.js';
import { isAuthRefusal } from '../../upstream/upstream-auth.js';
import { h2cOptions } from '../../upstream/h2c.js';
import { protocolMismatch } from '../../upstream/protocol-mismatch.js';

/** vLLM's prometheus_client answers OpenMetrics if asked; the scraper asks for the classic text format. */
export const SCRAPE_ACCEPT: Readonly<Record<string, string>> = { accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1' };

/** What to scrape: one endpoint, once. */
export interface ScrapeJob {
  origin: string;
  path: string;
  h2c: boolean;
  /** The engine's metric map, by name (the reader knows the maps). */
  engine: string;
  timeoutMs: number;
  maxBytes: number;
  /** The request headers (accept, and the pool's API key when it has one). */
  headers: Record<string, string>;
}

/**
 * How a scrape ended. `at` is when the reading was in hand (Date.now(), the same clock in every thread), so a
 * reading's age counts the time it took to reach the request thread. A failure carries its reason in words,
 * or the 401/403 status the request thread words with the key that was sent.
 */
export type ScrapeOutcome = { ok: true; reading: EngineReading; at: number } | { ok: false; refused: number; why: string };

/** An origin's client goes once it has not been asked for this long (ms); its keep-alive socket closed long before. */
const IDLE_CLIENT_MS = 30_000;
/** How often at most `of` looks for such clients (ms). */
const SWEEP_MS = 10_000;

/**
 * The connections scrapes go through: one undici `Client` (one connection) per pod is enough with one scrape in
 * flight per pod. Not an `Agent`: it drops an origin's pool once no connection is left, which every refused
 * connect leaves, so each scrape of a pod that does not answer built a new pool (docs/benchmarks.md,
 * "Unreachable pods"). Here an origin keeps its client until it has gone unasked for 30 s.
 */
export class ScrapeAgents {
  readonly #clients = new Map<string, { client: Client; usedAt: number }>();
  readonly #idleMs: number;
  readonly #sweepMs: number;
  #sweptAt = Date.now();

  /** The defaults are the gateway's; tests shorten them. */
  constructor(idleMs = IDLE_CLIENT_MS, sweepMs = SWEEP_MS) {
    this.#idleMs = idleMs;
    this.#sweepMs = sweepMs;
  }

  of(origin: string, h2c: boolean): Client {
    const now = Date.now();
    if (now - this.#sweptAt >= this.#sweepMs) this.#sweep(now);
    const key = h2c ? `h2c ${origin}` : origin;
    let entry = this.#clients.get(key);
    if (!entry) {
      // Keep-alive saves a handshake per scrape; idle sockets are dropped before uvicorn's 5 s keep-alive (vLLM's
      // server) closes them under us.
      entry = { client: new Client(origin, { keepAliveTimeout: 4_000, ...(h2c ? h2cOptions(undefined) : {}) }), usedAt: now };
      this.#clients.set(key, entry);
    }
    entry.usedAt = now;
    return entry.client;
  }

  /** Origins with a client now (tests). */
  get size(): number {
    return this.#clients.size;
  }

  #sweep(now: number): void {
    this.#sweptAt = now;
    for (const [key, { client, usedAt }] of this.#clients) {
      if (now - usedAt < this.#idleMs) continue;
      this.#clients.delete(key);
      void client.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const clients = [...this.#clients.values()].map((e) => e.client);
    this.#clients.clear();
    await Promise.allSettled(clients.map((c) => c.close()));
  }
}

/** Scrapes once. Never rejects: every failure is an outcome. */
export async function readEndpointMetrics(job: ScrapeJob, agents: ScrapeAgents, engines: ReadonlyMap<string, EngineMetricMap>): Promise<ScrapeOutcome> {
  try {
    const map = engines.get(job.engine);
    if (!map) throw new Error(`no engine metrics config is named ${job.engine}`);
    const res = await getText(agents.of(job.origin, job.h2c), job.origin, job.path, { timeoutMs: job.timeoutMs, maxBytes: job.maxBytes, headers: job.headers });
    if (isAuthRefusal(res.statusCode)) return { ok: false, refused: res.statusCode, why: `answered ${res.statusCode}` };
    if (res.statusCode !== 200) throw new Error(`answered ${res.statusCode}`);
    const reading = extractEndpointMetrics(parsePrometheusText(res.text, { keep: map.sampleNames }), map);
    return { ok: true, reading, at: Date.now() };
  } catch (e) {
    const err = e as Error & { code?: string };
    const why = err.name === 'TimeoutError' ? err.message : (protocolMismatch(err, job.h2c) ?? `${err.code ?? err.name}: ${err.message}`);
    return { ok: false, refused: 0, why };
  }
}
