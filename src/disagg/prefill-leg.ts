/**
 * The prefill leg of P/D disaggregation, made by the gateway itself (`serve --kv-connector nixlv2`), where llm-d
 * puts a routing sidecar in front of each decode pod: before the decode attempt, the request goes to the prefill
 * pod the scheduler chose with one token to produce; the decode pod then gets the prefill's `kv_transfer_params`.
 */
import { randomUUID } from 'node:crypto';
import type { Endpoint } from '../epp/datastore/endpoint.js';
import type { Cancellation } from '../upstream/cancellation.js';
import type { Upstream } from '../upstream/upstream.js';
import { applyPoolCredential } from '../upstream/upstream-auth.js';
import { decodeBody, prefillBody, transferParams } from './nixl-v2.js';

/** The KV connectors the gateway speaks, by the names of llm-d's sidecar (`--kv-connector`). */
export const KV_CONNECTORS = ['nixlv2'] as const;
export type KvConnector = (typeof KV_CONNECTORS)[number];

/** The decode leg's body, or why the prefill could not be used (the decode pod then prefills itself). */
export type PrefillOutcome = { ok: true; body: Buffer } | { ok: false; why: string };

export interface PrefillRequest {
  /** Path with query string, as the client sent it. */
  url: string;
  /** The headers the decode attempt goes with (copied, not changed). */
  headers: Readonly<Record<string, string | string[]>>;
  json: Readonly<Record<string, unknown>>;
  pool: string;
  cancel: Cancellation;
}

export class PrefillLeg {
  readonly connector: KvConnector;
  readonly #upstream: Upstream;

  constructor(upstream: Upstream, connector: KvConnector = 'nixlv2') {
    this.#upstream = upstream;
    this.connector = connector;
  }

  /**
   * Sends the prefill to `prefill` and waits for its answer, within the pool's response timeout. Never throws: a
   * refused connection, an error status, an answer without `kv_transfer_params` or the client leaving come back as
   * `{ok: false}` (llm-d's sidecar returns the prefill's error to the client; the gateway lets the decode pod do the
   * whole request instead, so a prefill pool in trouble costs latency, not errors).
   */
  async run(prefill: Endpoint, req: PrefillRequest): Promise<PrefillOutcome> {
    const { timeouts } = this.#upstream.policies.forPool(req.pool);
    const body = Buffer.from(JSON.stringify(prefillBody(req.json, req.url)));
    const headers: Record<string, string | string[]> = { ...req.headers, 'content-type': 'application/json', 'content-length': String(body.length), 'x-request-id': randomUUID() };
    applyPoolCredential(headers, this.#upstream.credentials.forPool(req.pool));
    const ac = new AbortController();
    req.cancel.bind((err) => ac.abort(err));
    try {
      const pool = this.#upstream.pools.get(prefill.origin, timeouts.connectMs, prefill.h2c);
      const answer = await pool.request({
        method: 'POST',
        path: req.url,
        headers,
        body,
        signal: ac.signal,
        ...(timeouts.responseHeadersMs > 0 ? { headersTimeout: timeouts.responseHeadersMs, bodyTimeout: timeouts.responseHeadersMs } : {}),
      });
      const text = await answer.body.text();
      if (answer.statusCode < 200 || answer.statusCode >= 300) return { ok: false, why: `the prefill pod ${prefill.address} answered ${answer.statusCode}` };
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return { ok: false, why: `the prefill pod ${prefill.address} answered ${answer.statusCode} with a body that is not JSON` };
      }
      const params = transferParams(parsed);
      if (params === undefined) return { ok: false, why: `the prefill pod ${prefill.address} answered without kv_transfer_params (is vLLM's NIXL connector on?)` };
      return { ok: true, body: Buffer.from(JSON.stringify(decodeBody(req.json, params))) };
    } catch (e) {
      return { ok: false, why: `the prefill pod ${prefill.address} failed: ${(e as Error).message}` };
    } finally {
      req.cancel.unbind();
    }
  }
}
