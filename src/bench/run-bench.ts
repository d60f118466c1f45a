/** Runs one benchmark: a workload sent to a URL under an open or closed load, measured from the client's side. */
import { setMaxListeners } from 'node:events';
import { Pool } from 'undici';
import { seededRandom } from '../seeded-random.js';
import { DispatchGate } from './dispatch-gate.js';
import { runClosedLoop, runOpenLoop } from './load-loops.js';
import type { Percentiles } from './percentiles.js';
import { percentiles } from './percentiles.js';
import { RoutingCheck } from './routing-check.js';
import type { AttemptOutcome } from './send-attempt.js';
import { sendAttempt } from './send-attempt.js';
import { isAddress } from './served-endpoint.js';
import { Tally } from './tally.js';
import type { Workload } from './workload.js';

export type { Percentiles } from './percentiles.js';

/** Open: Poisson arrivals at `rate` req/s regardless of replies. Closed: `concurrency` requests always in flight. */
export type Load = { kind: 'open'; rate: number } | { kind: 'closed'; concurrency: number };

export interface BenchOptions {
  /** Gateway or service base URL, e.g. http://127.0.0.1:8080 (a path prefix is kept). */
  url: string;
  workload: Workload;
  load: Load;
  /** The run stops starting requests at whichever of these comes first. */
  maxRequests: number;
  durationS: number;
  /** After that, how long in-flight requests may still finish (default 60); the rest count as failures. */
  graceS?: number;
  /** Extra attempts after a failure (non-2xx, connection error, broken stream), each a fresh request; default 0. */
  retries?: number;
  /** Default true: stream, and measure TTFT and ITL from the SSE chunks; false: e2e and usage only. */
  stream?: boolean;
  /** Seeds the workload's choices and the arrival times (default 1). */
  seed?: number;
  /**
   * Sent as `Authorization: Bearer` to `url` (the requests, and the routing check when the URL is the pod itself):
   * the gateway's tenant key or vLLM's `--api-key`. Pods named by a routing header are asked without it, since a
   * tenant's key is not theirs to see.
   */
  apiKey?: string;
  label?: string;
  /** Default true: ask each serving endpoint whether it lists the requested model (see routing-check.ts). */
  verifyRouting?: boolean;
  /** Called about every 500 ms, and once at the end with `done: true`. */
  onProgress?: (p: Progress) => void;
  /** Aborting stops the run at once: nothing new starts, requests in flight count as unfinished. */
  signal?: AbortSignal;
}

export interface Progress {
  label: string;
  elapsedS: number;
  sent: number;
  completed: number;
  successes: number;
  failures: number;
  inFlight: number;
  /** Completions per second over the last interval. */
  rps: number;
  done: boolean;
}

export interface RunResult {
  label: string;
  workload: string;
  load: Load;
  /** Requests started; each counts once whatever its attempts. requests = successes + failures. */
  requests: number;
  successes: number;
  failures: number;
  /** successes / requests, in [0, 1]. */
  successRate: number;
  /** Attempts of the successful requests / successes (1 = no retries needed); NaN without successes. */
  attemptsPerSuccess: number;
  /** Attempts of all requests, failed ones included. */
  attempts: number;
  /**
   * Correct / checked successes, in [0, 1]; null when no serving endpoint could be asked. A response without a
   * routing header is attributed to the URL itself (a pod benchmarked directly), so behind a proxy that sets neither
   * header this only shows that the proxy lists the model.
   */
  routingAccuracy: number | null;
  /** Successes whose serving endpoint answered `GET /v1/models`. */
  routingChecked: number;
  /** Successes per second of the run's duration. */
  rps: number;
  outputTokensPerS: number;
  /** Milliseconds from the first attempt's start to the first content chunk; NaN when not streamed. */
  ttft: Percentiles;
  /** Milliseconds between consecutive content chunks, over all requests' gaps; NaN when not streamed. */
  itl: Percentiles;
  /**
   * Time per output token, one sample per request, as vLLM's `bench serve`: (e2e - TTFT) / (output tokens - 1), the
   * first token excluded; requests of one token have none. Unlike ITL it does not depend on how many tokens a
   * server puts in one chunk. NaN when not streamed.
   */
  tpot: Percentiles;
  /** Milliseconds from the first attempt's start to the response's end. */
  e2e: Percentiles;
  outputTokens: number;
  /** Prompt tokens of the successes, from the servers' `usage` (0 for a server that reports none). */
  inputTokens: number;
  /** (input + output tokens) per second of the run's duration: vLLM bench's total token throughput. */
  totalTokensPerS: number;
  /** Failures by cause, e.g. `HTTP 404 NotFoundError`, `connection error ECONNREFUSED`. */
  errors: Record<string, number>;
  /** For each cause that came with one, the first message, e.g. ``The model `x` does not exist.``. */
  errorMessages: Record<string, string>;
  /** Successes per serving endpoint (header, else the URL's host:port): the load balance. */
  perEndpoint: Record<string, number>;
  /** From the first request to the last answer, in seconds. */
  durationS: number;
  stream: boolean;
  retries: number;
  seed: number;
}

const PROGRESS_INTERVAL_MS = 500;

/** `rate=4` or `c=8`: the load, as a run's default label names it. */
export function loadTag(load: Load): string {
  return load.kind === 'open' ? `rate=${load.rate}` : `c=${load.concurrency}`;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new RangeError(message);
}

function validate(o: BenchOptions): void {
  check(Number.isInteger(o.maxRequests) && o.maxRequests >= 1, `maxRequests must be an integer >= 1, got ${o.maxRequests}`);
  check(Number.isFinite(o.durationS) && o.durationS > 0, `durationS must be a number > 0, got ${o.durationS}`);
  check(o.graceS === undefined || (Number.isFinite(o.graceS) && o.graceS >= 0), `graceS must be a number >= 0, got ${o.graceS}`);
  check(o.retries === undefined || (Number.isInteger(o.retries) && o.retries >= 0), `retries must be an integer >= 0, got ${o.retries}`);
  if (o.load.kind === 'open') check(Number.isFinite(o.load.rate) && o.load.rate > 0, `rate must be a number > 0, got ${o.load.rate}`);
  else check(Number.isInteger(o.load.concurrency) && o.load.concurrency >= 1, `concurrency must be an integer >= 1, got ${o.load.concurrency}`);
}

/** The body as sent: the workload's, with `stream` set and usage asked for when streaming. */
function wireBody(body: Record<string, unknown>, stream: boolean): Record<string, unknown> {
  if (!stream) {
    // vLLM rejects stream_options on a non-streamed request.
    const { stream_options: _dropped, ...rest } = body;
    return { ...rest, stream: false };
  }
  const given = typeof body.stream_options === 'object' && body.stream_options !== null ? body.stream_options : {};
  return { ...body, stream: true, stream_options: { include_usage: true, ...given } };
}

function toRecord(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...map].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

export async function runBench(o: BenchOptions): Promise<RunResult> {
  validate(o);
  const url = new URL(o.url);
  const prefix = url.pathname.replace(/\/+$/, '');
  const stream = o.stream ?? true;
  const retries = o.retries ?? 0;
  const seed = o.seed ?? 1;
  const label = o.label ?? `${o.workload.name} ${loadTag(o.load)}`;
  // A response without routing headers is taken to come from the URL itself: a pod benchmarked directly.
  const directEndpoint = url.host;
  const apiKey = o.apiKey === undefined ? {} : { apiKey: o.apiKey };
  const routing = new RoutingCheck((e) => (e === directEndpoint ? { base: `${url.origin}${prefix}`, ...apiKey } : isAddress(e) ? { base: `http://${e}` } : null));
  const tally = new Tally();
  const workloadRandom = seededRandom(seed);
  // Its own stream, so the requests are the same whatever the load shape.
  const arrivalRandom = seededRandom(seed ^ 0x5bd1e995);

  const pool = new Pool(url.origin, { connections: o.load.kind === 'closed' ? o.load.concurrency : null });
  const abort = new AbortController();
  // Every in-flight request listens on this one signal.
  setMaxListeners(0, abort.signal);
  let graceTimer: NodeJS.Timeout | undefined;
  const gate = new DispatchGate(() => {
    graceTimer = setTimeout(() => abort.abort(), (o.graceS ?? 60) * 1000);
  });
  const deadlineTimer = setTimeout(() => gate.close(), o.durationS * 1000);
  const onCallerAbort = (): void => {
    gate.close();
    abort.abort();
  };
  if (o.signal?.aborted) onCallerAbort();
  o.signal?.addEventListener('abort', onCallerAbort, { once: true });

  let workloadError: unknown = null;
  const fire = async (i: number): Promise<void> => {
    let path: string;
    let payload: string;
    let model: string;
    try {
      const req = o.workload.next(i, workloadRandom);
      path = prefix + req.path;
      payload = JSON.stringify(wireBody(req.body, stream));
      model = req.model;
    } catch (e) {
      workloadError ??= e;
      gate.close();
      return;
    }
    tally.sent++;
    const startAt = performance.now();
    let attempts = 0;
    let outcome: AttemptOutcome;
    do {
      attempts++;
      outcome = await sendAttempt(pool, path, payload, abort.signal, o.apiKey);
    } while (!outcome.ok && !outcome.aborted && attempts <= retries);
    if (!outcome.ok) return tally.failure(attempts, outcome.error, outcome.errorMessage);
    const endpoint = outcome.servedBy ?? directEndpoint;
    tally.success(startAt, attempts, endpoint, outcome);
    routing.add(endpoint, model);
  };

  const t0 = performance.now();
  let lastCompleted = 0;
  let lastAt = t0;
  const progress = (done: boolean): void => {
    const now = performance.now();
    const rps = now > lastAt ? ((tally.completed - lastCompleted) * 1000) / (now - lastAt) : 0;
    lastCompleted = tally.completed;
    lastAt = now;
    const { sent, completed, successes, failures } = tally;
    o.onProgress?.({ label, elapsedS: (now - t0) / 1000, sent, completed, successes, failures, inFlight: sent - completed, rps, done });
  };
  const progressTimer = o.onProgress === undefined ? undefined : setInterval(() => progress(false), PROGRESS_INTERVAL_MS);

  try {
    if (o.load.kind === 'open') {
      await runOpenLoop({ rate: o.load.rate, maxRequests: o.maxRequests, gate, random: arrivalRandom, fire });
    } else {
      await runClosedLoop({ concurrency: o.load.concurrency, maxRequests: o.maxRequests, gate, fire });
    }
  } finally {
    clearTimeout(deadlineTimer);
    clearTimeout(graceTimer);
    clearInterval(progressTimer);
    o.signal?.removeEventListener('abort', onCallerAbort);
    await pool.destroy();
  }
  const durationS = (performance.now() - t0) / 1000;
  if (workloadError !== null) throw workloadError;
  if (o.onProgress !== undefined) progress(true);

  const verdict = (o.verifyRouting ?? true) && tally.successes > 0 ? await routing.verdict() : { checked: 0, correct: 0 };
  const rate = (n: number): number => (durationS > 0 ? n / durationS : 0);
  return {
    label,
    workload: o.workload.name,
    load: o.load,
    requests: tally.sent,
    successes: tally.successes,
    failures: tally.failures,
    successRate: tally.sent > 0 ? tally.successes / tally.sent : 0,
    attemptsPerSuccess: tally.successes > 0 ? tally.attemptsOfSuccesses / tally.successes : NaN,
    attempts: tally.attempts,
    routingAccuracy: verdict.checked > 0 ? verdict.correct / verdict.checked : null,
    routingChecked: verdict.checked,
    rps: rate(tally.successes),
    outputTokensPerS: rate(tally.outputTokens),
    ttft: percentiles(tally.ttft),
    itl: percentiles(tally.itl),
    tpot: percentiles(tally.tpot),
    e2e: percentiles(tally.e2e),
    outputTokens: tally.outputTokens,
    inputTokens: tally.inputTokens,
    totalTokensPerS: rate(tally.inputTokens + tally.outputTokens),
    errors: toRecord(tally.errors),
    errorMessages: Object.fromEntries(tally.errorMessages),
    perEndpoint: toRecord(tally.perEndpoint),
    durationS,
    stream,
    retries,
    seed,
  };
}
