/**
 * One attempt of a request on one endpoint: sent with the pool's timeouts, counted in flight, its answer
 * streamed to the caller's writable, and its outcome judged for passive health (backoff, outlier detection).
 */
import type { Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { PoolView } from '../epp/datastore/datastore.js';
import type { Endpoint } from '../epp/datastore/endpoint.js';
import type { Cancellation } from './cancellation.js';
import { requestEnded, requestSent, responseStarted } from './in-flight.js';
import { headersTimeoutMs } from './timeouts.js';
import type { OutlierDetection } from './outlier-detection.js';
import { countsAgainstEndpoint, errorCode, failureKind, isConnectionFailure, type FailureKind } from './upstream-failure.js';
import { applyPoolCredential } from './upstream-auth.js';
import type { Upstream } from './upstream.js';

export interface AttemptRequest {
  method: string;
  /** Path and query string. */
  path: string;
  headers: Record<string, string | string[]>;
  body: Buffer | null;
  /** The body asked for `"stream": true`: the short header timeout applies. */
  streamed: boolean;
  /** Cancels the attempt in flight (the client left, the upstream timeout passed), and says why. */
  cancel: Cancellation;
}

/** Where an answer goes: `out` gets the body chunk by chunk, with backpressure; `tap` reads each chunk first. */
export interface ResponseTarget {
  readonly out: Writable;
  readonly tap?: { chunk(data: Buffer): void };
  /**
   * Sends the answer's headers ahead of its body (streams: the client sees the response start before the first
   * token). Called once the upstream bytes read with the headers are handled, and only if no body chunk came
   * with them: a chunk written then carries the headers in the same socket write.
   */
  readonly flushHeaders?: () => void;
}

/** How the attempt ended. `answered`: response headers arrived, so bytes may have reached the client. */
export type AttemptResult = { ok: true } | { ok: false; answered: boolean; kind: FailureKind; code: string; error: unknown };

/**
 * The status and raw headers (undici's flat `[name, value, ...]` list) of an answer; returns where its body goes.
 * A promise holds the answer (undici reads no more of it) until the caller is ready: an external endpoint
 * picker's answer to the response headers. It must not reject except on a bug (the attempt is then aborted).
 */
export type OnResponse = (statusCode: number, rawHeaders: readonly Buffer[]) => ResponseTarget | Promise<ResponseTarget>;

/**
 * Sends `req` to `ep` (an endpoint of `pool`). `onResponse` gets the status and headers and returns where the
 * body goes. Never throws: failures come back as `{ ok: false }`.
 */
export function sendAttempt(up: Upstream, ep: Endpoint, pool: PoolView, req: AttemptRequest, onResponse: OnResponse): Promise<AttemptResult> {
  const { timeouts, outlierDetection } = up.policies.forPool(pool.key);
  // The pool's API key replaces the client's Authorization; without one the client's passes unchanged.
  applyPoolCredential(req.headers, up.credentials.forPool(pool.key));
  return new Promise((resolve) => {
    const exchange = new Exchange(ep, onResponse, req.cancel, (error) => {
      requestEnded(ep, exchange.ticket, exchange.answered);
      if (error === undefined) {
        const status = exchange.status;
        // An answer below 500 only ends the endpoint's failure runs: no clock read for it, on every request.
        if (status < 500) up.outliers.succeeded(ep);
        else up.outliers.record(ep, pool, outlierDetection, { kind: 'status', status }, Date.now());
        resolve(OK);
        return;
      }
      const why = req.cancel.cause;
      const code = why === 'deadline' ? 'upstream_timeout' : errorCode(error);
      const kind = why === 'deadline' ? 'timeout' : failureKind(error, exchange.responseStarted);
      // A client that left, or an answer replaced, says nothing about the endpoint.
      if (why !== 'client' && why !== 'replaced') judgeFailure(up, ep, pool, kind, code, exchange.answered, outlierDetection);
      resolve({ ok: false, answered: exchange.answered, kind, code, error });
    });
    exchange.ticket = requestSent(ep);
    try {
      up.pools.get(ep.origin, timeouts.connectMs, ep.h2c).dispatch(
        {
          method: req.method as Dispatcher.HttpMethod,
          path: req.path,
          headers: req.headers,
          body: ep.h2c && req.body !== null && !H2_PAYLOAD_METHODS.has(req.method) ? null : req.body,
          headersTimeout: headersTimeoutMs(timeouts, req.streamed),
          bodyTimeout: timeouts.streamIdleMs,
        },
        exchange,
      );
    } catch (e) {
      exchange.onError(e as Error);
    }
  });
}

const OK: AttemptResult = { ok: true };

/**
 * The methods undici 7's HTTP/2 client sends a body with. With any other method a body fails its assertion, and
 * on a new connection the failure is thrown from undici's socket callback, where nothing catches it: a GET, HEAD,
 * DELETE or OPTIONS with a body (`{}` on a DELETE, from a client that always sends one) to an h2c pool stopped
 * the gateway, and on a connection already open it got a 502 and left that connection stuck. Such a request goes
 * to an h2c pool without its body, which those methods give no meaning (RFC 9110 §9.3).
 */
const H2_PAYLOAD_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/**
 * undici's dispatch handler for one attempt (its raw interface: no stream wrapper, no async resource, no
 * header object per answer), writing the answer into the target as it arrives. Settles exactly once.
 */
class Exchange implements Dispatcher.DispatchHandler {
  answered = false;
  /** The first bytes of an answer arrived (its status line begun), whether or not its headers were whole. */
  responseStarted = false;
  status = 0;
  ticket = 0;
  readonly #ep: Endpoint;
  readonly #onResponse: OnResponse;
  readonly #cancel: Cancellation;
  #settle: ((error: Error | undefined) => void) | undefined;
  #target: ResponseTarget | undefined;
  #resume: (() => void) | undefined;
  #waiting = false;
  #bodyStarted = false;
  #abort: ((err: Error) => void) | undefined;
  /** While the target is awaited: chunks undici delivered anyway (none expected once paused), and whether it completed. */
  #held: { chunks: Buffer[]; complete: boolean } | undefined;
  readonly #drained = (): void => {
    this.#waiting = false;
    this.#resume?.();
  };

  constructor(ep: Endpoint, onResponse: OnResponse, cancel: Cancellation, settle: (error: Error | undefined) => void) {
    this.#ep = ep;
    this.#onResponse = onResponse;
    this.#cancel = cancel;
    this.#settle = settle;
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    this.#cancel.bind(abort);
  }

  onResponseStarted(): void {
    this.responseStarted = true;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx (100 Continue, 103 Early Hints) are not the answer; the final status follows.
    if (statusCode < 200) return true;
    this.answered = true;
    this.status = statusCode;
    this.#resume = resume;
    const ep = this.#ep;
    responseStarted(ep, this.ticket);
    if (ep.consecutiveFailures > 0) ep.markReachable();
    const target = this.#onResponse(statusCode, rawHeaders);
    if (target instanceof Promise) {
      // Paused (false) until the target is ready; resumed by #release.
      this.#held = { chunks: [], complete: false };
      target.then(
        (t) => this.#release(t),
        (e: unknown) => this.#abort?.(e instanceof Error ? e : new Error(String(e))),
      );
      return false;
    }
    // undici reads on even when the answer is already whole: it has a bodiless answer's end to parse.
    this.#start(target);
    return true;
  }

  /** Returns false when the answer is already whole (a status that has no body). */
  #start(target: ResponseTarget): boolean {
    this.#target = target;
    // RFC 9110 §6.4.1: a 204 or a 304 ends with its headers, whatever they say. undici holds a 304's Content-Length
    // (the size its 200 would have had, which §8.6 allows) against the body it never reads and fails it, and a
    // pod's stray bytes after a 204 likewise: the client's connection was then cut with nothing sent. The answer
    // is complete here; a failure undici reports after it concerns only the pod's connection, which it closes.
    if (this.status === 204 || this.status === 304) {
      this.#finish();
      return false;
    }
    // undici hands over the headers and whatever body arrived in the same read synchronously; a microtask runs
    // after all of it, so headers that came alone go out alone, and ones that came with a chunk go out with it.
    if (target.flushHeaders !== undefined) queueMicrotask(() => this.#bodyStarted || target.flushHeaders!());
    return true;
  }

  /** The held answer's target is ready: what arrived meanwhile goes first, then undici reads on. */
  #release(target: ResponseTarget): void {
    const held = this.#held!;
    this.#held = undefined;
    // The attempt ended while held (the client left, the deadline passed): nothing is written.
    if (this.#settle === undefined) return;
    if (!this.#start(target)) return;
    let more = true;
    for (const c of held.chunks) more = this.onData(c);
    if (held.complete) return this.onComplete();
    if (more) this.#resume?.();
  }

  onData(chunk: Buffer): boolean {
    // Settled: a bodiless answer is already whole (#start); nothing more goes to the client.
    if (this.#settle === undefined) return true;
    if (this.#held !== undefined) {
      this.#held.chunks.push(chunk);
      return false;
    }
    const t = this.#target!;
    this.#bodyStarted = true;
    t.tap?.chunk(chunk);
    if (t.out.write(chunk)) return true;
    // Backpressure: undici stops reading the upstream until the client has taken what was written.
    if (!this.#waiting) {
      this.#waiting = true;
      t.out.once('drain', this.#drained);
    }
    return false;
  }

  onComplete(): void {
    if (this.#held !== undefined) {
      this.#held.complete = true;
      return;
    }
    this.#finish();
  }

  /** The answer is whole: the client's response ends, once. */
  #finish(): void {
    if (this.#settle === undefined) return;
    this.#target?.out.end();
    this.#done(undefined);
  }

  onError(err: Error): void {
    this.#done(err);
  }

  #done(error: Error | undefined): void {
    this.#cancel.unbind();
    const settle = this.#settle;
    this.#settle = undefined;
    settle?.(error);
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
