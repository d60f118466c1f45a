/**
 * One scrape's work, wherever it runs (the request thread or the scraping worker): GET an endpoint's /metrics,
 * parse the text and extract the scheduler's numbers. Plain data in and out, so it can cross a thread.
 */
import type { EngineMetricMap } from './engine-metrics.js';
import { extractEndpointMetrics, type EngineReading } from './extract-endpoint-metrics.js';
import { getText } from './get-text.js';
import { parsePrometheusText } from './prometheus-parser.js';
import { isAuthRefusal } from '../../upstream/upstream-auth.js';
import type { OriginClients, OriginClientsOptions } from '../../upstream/origin-clients.js';
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

/**
 * The connections scrapes go through (`new OriginClients(SCRAPE_CLIENTS)`): one undici `Client` per pod is enough
 * with one scrape in flight per pod. Keep-alive saves a handshake per scrape; idle sockets are dropped before
 * uvicorn's 5 s keep-alive (vLLM's server) closes them under us.
 */
export const SCRAPE_CLIENTS: OriginClientsOptions = { connections: 1, keepAliveTimeoutMs: 4_000 };

/** Scrapes once. Never rejects: every failure is an outcome. */
export async function readEndpointMetrics(job: ScrapeJob, agents: OriginClients, engines: ReadonlyMap<string, EngineMetricMap>): Promise<ScrapeOutcome> {
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
    const why = err.name === 'TimeoutError' ? err.message : (protocolMismatch(err, job.h2c) ?? failureText(err));
    return { ok: false, refused: 0, why };
  }
}

/**
 * A failed scrape in words: a system or undici error with its code (`ECONNREFUSED: connect ...`); the scraper's
 * own plain errors (`answered 500`, a gauge missing) as they are, since their name would only prefix "Error: ".
 */
export function failureText(err: Error & { code?: string }): string {
  const kind = err.code ?? (err.name !== 'Error' ? err.name : undefined);
  return kind !== undefined ? `${kind}: ${err.message}` : err.message;
}
