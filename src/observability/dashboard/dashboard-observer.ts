/**
 * The dashboard's RequestObserver: each finished request goes into per-second buckets (rate, errors, TTFT)
 * and a short list of recent requests. O(1) per request, one small object allocated.
 */
import type { RequestObserver, RequestRecord } from '../request-record.js';
import { RecentRequests, type RecentRequest } from './recent-requests.js';
import { RequestBuckets } from './request-buckets.js';

export interface DashboardObserverOptions {
  /** Seconds of history the charts can show (default 600: ten minutes). */
  historySeconds?: number;
  /** Finished requests listed (default 20). */
  recent?: number;
  /** The clock, ms since the epoch (tests); by default a request ends at its record's wall-clock start plus its duration. */
  now?: () => number;
}

/**
 * What the dashboard counts as a failed request: the gateway's own error code, else `HTTP <status>` when the
 * model server answered with a status other than 2xx. A client that went away is no error (as the metrics).
 */
export function dashboardErrorCode(r: RequestRecord): string | undefined {
  if (r.errorCode !== undefined) return r.errorCode;
  if (r.status !== undefined && (r.status < 200 || r.status >= 300)) return `HTTP ${r.status}`;
  return undefined;
}

/**
 * Time to first token as the metrics define it (llm-d): a stream's first token event, a whole answer's end.
 * Only for answers that succeeded; undefined otherwise.
 */
export function ttftSeconds(r: RequestRecord, errorCode: string | undefined): number | undefined {
  if (errorCode !== undefined || r.status === undefined || r.clientGone === true) return undefined;
  const first = r.stream ? r.firstTokenAt : r.endedAt;
  return first === undefined || first < r.startedAt ? undefined : (first - r.startedAt) / 1000;
}

export class DashboardObserver implements RequestObserver {
  readonly buckets: RequestBuckets;
  readonly recent: RecentRequests<RequestRecord>;
  readonly #now: (() => number) | undefined;
  /** Requests finished since start. */
  total = 0;

  constructor(options: DashboardObserverOptions = {}) {
    this.buckets = new RequestBuckets(options.historySeconds ?? 600);
    this.recent = new RecentRequests<RequestRecord>(options.recent ?? 20, recentRow);
    this.#now = options.now;
  }

  ended(r: RequestRecord): void {
    // From the record's own times, which are read anyway: no clock read per request here.
    const now = this.#now !== undefined ? this.#now() : endedEpochMs(r);
    const error = dashboardErrorCode(r);
    const ttft = ttftSeconds(r, error);
    this.total++;
    this.buckets.record(now, error, ttft);
    // The row is built when the dashboard asks (recentRow): nothing allocated here.
    this.recent.push(r, now);
  }
}

/** When `r` ended, in ms since the epoch: its wall-clock start plus its duration. */
export function endedEpochMs(r: RequestRecord): number {
  return r.startTime + Math.round((r.endedAt ?? r.startedAt) - r.startedAt);
}

/** A finished request as the dashboard's table shows it. The record no longer changes once it ended. */
function recentRow(r: RequestRecord, at: number): RecentRequest {
  const error = dashboardErrorCode(r);
  const ttft = ttftSeconds(r, error);
  return {
    at,
    method: r.method,
    path: clip(r.path),
    model: r.model === undefined ? null : clip(r.model),
    pool: r.pool ?? null,
    endpoint: r.endpoint ?? null,
    status: r.status ?? null,
    error: error ?? null,
    attempts: r.attempts,
    stream: r.stream,
    ttftMs: ttft === undefined ? null : Math.round(ttft * 10_000) / 10,
    durationMs: r.endedAt === undefined ? 0 : Math.round((r.endedAt - r.startedAt) * 10) / 10,
    outputTokens: r.usage?.completionTokens ?? null,
  };
}

/** Client-sent strings can be as long as the body limit allows; the table needs only their start. */
const MAX_SHOWN_CHARS = 200;

function clip(s: string): string {
  return s.length > MAX_SHOWN_CHARS ? `${s.slice(0, MAX_SHOWN_CHARS)}…` : s;
}
