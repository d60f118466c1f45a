/**
 * The access log: one JSON line per request (`--access-log stdout|FILE|off`). What was asked, where it went and
 * how it ended; never a body, a header value or a credential.
 */
import { trace } from '@opentelemetry/api';
import { createLogger, type Logger } from '../logger.js';
import { AccessLogFile } from './access-log-file.js';
import type { RequestObserver, RequestRecord } from './request-record.js';
import { clientContext } from './tracing/trace-context.js';

/** Lines are gathered and written together at most this often, so a busy gateway makes one write per batch. */
const FLUSH_MS = 50;
/** A batch this large is written at once. */
const FLUSH_BYTES = 64 * 1024;

/** One access-log line's fields, in the order they are written. */
export interface AccessLogLine {
  time: string;
  request_id: string;
  /**
   * The request's trace: its span's when tracing is on (the client's trace, or a new one), else the trace of the
   * client's valid `traceparent`; null when neither.
   */
  trace_id: string | null;
  client: string | null;
  /** The tenant the request's API key names (`--api-keys`); null without keys, or without a valid key (a 401). */
  tenant: string | null;
  method: string;
  path: string;
  model: string | null;
  base_model: string | null;
  target_model: string | null;
  pool: string | null;
  endpoint: string | null;
  attempts: number;
  status: number | null;
  error_code: string | null;
  stream: boolean;
  /** Milliseconds from the request's start to its first token event (streams only). */
  ttft_ms: number | null;
  duration_ms: number;
  input_tokens: number | null;
  output_tokens: number | null;
  client_gone: boolean;
}

/** The line for one record; times rounded to 0.1 ms. */
export function accessLogLine(r: RequestRecord): AccessLogLine {
  const ms = (t: number | undefined): number | null => (t === undefined ? null : Math.round((t - r.startedAt) * 10) / 10);
  return {
    time: new Date(r.startTime).toISOString(),
    request_id: r.requestId,
    trace_id: traceIdOf(r) ?? null,
    client: r.clientAddress ?? null,
    tenant: r.tenant?.name ?? null,
    method: r.method,
    path: r.path,
    model: r.model ?? null,
    base_model: r.baseModel ?? null,
    target_model: r.targetModel ?? null,
    pool: r.pool ?? null,
    endpoint: r.endpoint ?? null,
    attempts: r.attempts,
    status: r.status ?? null,
    error_code: r.errorCode ?? null,
    stream: r.stream,
    ttft_ms: ms(r.firstTokenAt),
    duration_ms: ms(r.endedAt) ?? 0,
    input_tokens: r.usage?.promptTokens ?? null,
    output_tokens: r.usage?.completionTokens ?? null,
    client_gone: r.clientGone === true,
  };
}

/**
 * `JSON.stringify(accessLogLine(r))`, written field by field: no object per line and no generic walk of one,
 * which was most of the log's cost per request. Each string goes through JSON.stringify, so escaping is the same.
 */
export function formatAccessLogLine(r: RequestRecord): string {
  const ms = (t: number | undefined): string => (t === undefined ? 'null' : String(Math.round((t - r.startedAt) * 10) / 10));
  const u = r.usage;
  return (
    `{"time":"${isoTime(r.startTime)}","request_id":${jsonString(r.requestId)},"trace_id":${str(traceIdOf(r))},"client":${str(r.clientAddress)},"tenant":${str(r.tenant?.name)},"method":${jsonString(r.method)},` +
    `"path":${jsonString(r.path)},"model":${str(r.model)},"base_model":${str(r.baseModel)},"target_model":${str(r.targetModel)},` +
    `"pool":${str(r.pool)},"endpoint":${str(r.endpoint)},"attempts":${r.attempts},"status":${r.status ?? 'null'},"error_code":${str(r.errorCode)},` +
    `"stream":${r.stream},"ttft_ms":${ms(r.firstTokenAt)},"duration_ms":${r.endedAt === undefined ? '0' : ms(r.endedAt)},` +
    `"input_tokens":${u?.promptTokens ?? 'null'},"output_tokens":${u?.completionTokens ?? 'null'},"client_gone":${r.clientGone === true}}`
  );
}

/**
 * The trace tracing set on the record, else the trace of the client's `traceparent` when it is valid, read by the
 * same W3C propagator tracing joins clients' traces with (trace-context.ts).
 */
export function traceIdOf(r: RequestRecord): string | undefined {
  if (r.traceId !== undefined) return r.traceId;
  if (r.traceparent === undefined) return undefined;
  return trace.getSpanContext(clientContext(r.traceparent, undefined))?.traceId;
}

/** A string as JSON, or `null` for none. */
function str(v: string | undefined): string {
  return v === undefined ? 'null' : jsonString(v);
}

/**
 * `JSON.stringify(v)` for a string: quoted as it is when nothing in it needs escaping (ids, addresses, names,
 * nearly every path), as a scan tells; JSON.stringify otherwise (with isoTime, a line costs 770 against 1,260
 * ns before them: bench/response-observers.ts).
 */
export function jsonString(v: string): string {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    // What JSON.stringify escapes: control characters, the quote, the backslash, and lone surrogates.
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(v);
  }
  return `"${v}"`;
}

/** The second last formatted (`YYYY-MM-DDTHH:MM:SS.`): lines in the same second add only their milliseconds. */
let lastSecond = NaN;
let secondText = '';

/** `new Date(ms).toISOString()` for a whole number of milliseconds; within one second, only the milliseconds are formatted. */
export function isoTime(ms: number): string {
  if (!Number.isInteger(ms)) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    const iso = new Date(second * 1000).toISOString();
    // Years past 9999 (or before 0) are written with a sign and six digits: format those whole.
    if (iso.length !== 24) return new Date(ms).toISOString();
    lastSecond = second;
    secondText = iso.slice(0, 20);
  }
  const m = ms - second * 1000;
  return `${secondText}${m < 10 ? '00' : m < 100 ? '0' : ''}${m}Z`;
}

/** Where lines go: a stream the log does not own (stdout), or a file it opens for appending and closes. */
export type AccessLogTarget = 'stdout' | { file: string };

/** Parses `--access-log`: `off` (undefined), `stdout`, or a file path. */
export function accessLogTarget(flag: string | undefined): AccessLogTarget | undefined {
  if (flag === undefined || flag === '' || flag === 'off') return undefined;
  if (flag === 'stdout' || flag === '-') return 'stdout';
  return { file: flag };
}

export class AccessLog implements RequestObserver {
  /** stdout, or the file (`--access-log FILE`), whose failures cost lines, never the process. */
  readonly #out: NodeJS.WritableStream | AccessLogFile;
  /**
   * Lines not yet written, encoded at once into this buffer: a line's string dies young instead of waiting for
   * the write in the young generation (where every scavenge copied it: half the log's cost per request).
   */
  #batch = Buffer.allocUnsafe(FLUSH_BYTES);
  #used = 0;
  /** Lines in the batch, for the count of those a failing file drops. */
  #lines = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Set once stdout failed (EPIPE: its reader went away); without a listener that error would end the process. */
  #stdoutFailed = false;

  /** Throws when the file cannot be opened for appending (a missing directory, no permission), naming the flag. */
  constructor(target: AccessLogTarget, log: Logger = createLogger('info')) {
    if (target !== 'stdout') {
      this.#out = new AccessLogFile(target.file, log);
      return;
    }
    this.#out = process.stdout;
    process.stdout.on('error', (e) => {
      if (this.#stdoutFailed) return;
      this.#stdoutFailed = true;
      log.error('access log: stdout cannot be written (the process reading it went away?); access-log lines are dropped from now on, the gateway serves on', { error: e.message });
    });
  }

  ended(r: RequestRecord): void {
    const line = `${formatAccessLogLine(r)}\n`;
    // At most 3 bytes per UTF-16 unit: a line that may not fit goes after what is gathered, or alone if it is huge.
    if (this.#used + line.length * 3 > FLUSH_BYTES) {
      this.flush();
      if (line.length * 3 > FLUSH_BYTES) {
        this.#write(Buffer.from(line), 1);
        return;
      }
    }
    this.#used += this.#batch.write(line, this.#used);
    this.#lines++;
    this.#timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#used === 0) return;
    // The stream keeps the bytes until they are written: the next lines go into a new buffer.
    const bytes = this.#batch.subarray(0, this.#used);
    const lines = this.#lines;
    this.#batch = Buffer.allocUnsafe(FLUSH_BYTES);
    this.#used = 0;
    this.#lines = 0;
    this.#write(bytes, lines);
  }

  #write(bytes: Buffer, lines: number): void {
    if (this.#out instanceof AccessLogFile) this.#out.write(bytes, lines);
    else if (!this.#stdoutFailed) this.#out.write(bytes);
  }

  /**
   * For a file: writes what is gathered to the file open now, closes it and opens the path again, so a log
   * rotated by renaming (logrotate without copytruncate, then `kill -HUP`) continues in a new file. Resolves
   * once the old file is closed; nothing is lost between the two. Rejects when the path cannot be opened again
   * (its directory gone, no permission): lines go on to the file open before. Does nothing for stdout.
   */
  async reopen(): Promise<void> {
    if (!(this.#out instanceof AccessLogFile)) return;
    this.flush();
    await this.#out.reopen();
  }

  /** Writes what is gathered and, for a file, closes it. */
  async close(): Promise<void> {
    this.flush();
    // stdout's error listener stays: the last batch may still fail to be written after this.
    if (this.#out instanceof AccessLogFile) await this.#out.close();
  }
}
