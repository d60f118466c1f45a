/**
 * One attempt of a request on one endpoint: sent with the pool's timeouts, counted in flight, its answer
 * streamed to the caller's writable, and its outcome judged for passive health (backoff, outlier detection).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import type { PoolView } from '../epp/datastore/datastore.js';
import type { Endpoint } from '../epp/datastore/endpoint.js';
import { requestEnded, requestSent, responseStarted } from './in-flight.js';
import { headersTimeoutMs } from './timeouts.js';
import type { OutlierDetection } from './outlier-detection.js';
import { countsAgainstEndpoint, errorCode, failureKind, isConnectionFailure, type FailureKind } from './upstream-failure.js';
import type { Upstream } from './upstream.js';

export interface AttemptRequest {
  method: string;
  /** Path and query string. */
  path: string;
  headers: Record<string, string | string[]>;
  body: Buffer | null;
  /** The body asked for `"stream": true`: the short header timeout applies. */
  streamed: boolean;
  /** undici accepts an EventEmitter as its abort signal: cheaper per request than an AbortController. */
  signal: EventEmitter;
  /** Why the signal fired, when it did: the client left (not the endpoint's fault) or the upstream timeout passed. */
  aborted: () => 'client' | 'deadline' | undefined;
}

/** How the attempt ended. `answered`: response headers arrived, so bytes may have reached the client. */
export type AttemptResult = { ok: true } | { ok: false; answered: boolean; kind: FailureKind; code: string; error: unknown };

/**
 * Sends `req` to `ep` (an endpoint of `pool`). `onResponse` gets the status and headers and returns where the
 * body goes, chunk by chunk with backpressure. Never throws: failures come back as `{ ok: false }`.
 */
export async function sendAttempt(
  up: Upstream,
  ep: Endpoint,
  pool: PoolView,
  req: AttemptRequest,
  onResponse: (statusCode: number, headers: IncomingHttpHeaders) => Writable,
): Promise<AttemptResult> {
  const { timeouts, outlierDetection } = up.policies.forPool(pool.key);
  let answered = false;
  let status = 0;
  let out: Writable | undefined;
  const ticket = requestSent(ep);
  try {
    await up.pools.get(ep.origin, timeouts.connectMs).stream(
      {
        method: req.method as 'POST',
        path: req.path,
        headers: req.headers,
        body: req.body,
        signal: req.signal,
        headersTimeout: headersTimeoutMs(timeouts, req.streamed),
        bodyTimeout: timeouts.streamIdleMs,
      },
      ({ statusCode, headers }) => {
        answered = true;
        status = statusCode;
        responseStarted(ep, ticket);
        if (ep.consecutiveFailures > 0) ep.markReachable();
        out = onResponse(statusCode, headers as IncomingHttpHeaders);
        return out;
      },
    );
    up.outliers.record(ep, pool, outlierDetection, { kind: 'status', status }, Date.now());
    return { ok: true };
  } catch (thrown) {
    // Once the body flows into `out`, undici reports a premature close of it; the cause (a body timeout, a
    // reset) is what `out` was destroyed with.
    const error = (answered && out?.errored) || thrown;
    const why = req.aborted();
    const code = why === 'deadline' ? 'upstream_timeout' : errorCode(error);
    const kind = why === 'deadline' ? 'timeout' : failureKind(error);
    // A client that left says nothing about the endpoint.
    if (why !== 'client') judgeFailure(up, ep, pool, kind, code, answered, outlierDetection);
    return { ok: false, answered, kind, code, error };
  } finally {
    requestEnded(ep, ticket, answered);
  }
}

function judgeFailure(up: Upstream, ep: Endpoint, pool: PoolView, kind: FailureKind, code: string, answered: boolean, settings: OutlierDetection): void {
  const now = Date.now();
  // Connection failures before an answer hold the endpoint out briefly, as they always have; a hung endpoint
  // (timeouts) is left to outlier detection, since its GET /v1/models answers and would end a backoff at once.
  if (!answered && isConnectionFailure(kind)) ep.markConnectFailure(now);
  if (isConnectionFailure(kind) || answered) up.onConnectionFailure?.(ep);
  if (countsAgainstEndpoint(kind)) up.outliers.record(ep, pool, settings, { kind: 'local', code }, now);
}
