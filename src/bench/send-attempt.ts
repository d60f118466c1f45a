/** One HTTP attempt of a benchmark request over a keep-alive undici dispatcher, timed from the client's side. */
import type { Dispatcher } from 'undici';
import { estimateTokens } from '../sim/token-estimate.js';
import { servedEndpointFrom } from './served-endpoint.js';
import { StreamMeter } from './stream-meter.js';

/** How one attempt ended. Times are performance.now() values. */
export interface AttemptOutcome {
  ok: boolean;
  /** True when the run's abort signal stopped it: not retried, counted as unfinished. */
  aborted: boolean;
  /** The key this failure is counted under in `RunResult.errors`, e.g. `HTTP 404 NotFoundError`; '' on success. */
  error: string;
  /** What the server or the socket said, e.g. the error body's `message`; '' when nothing did. */
  errorMessage: string;
  /** The endpoint the response says served it (see served-endpoint.ts), or null. */
  servedBy: string | null;
  /** First content chunk, when streamed. */
  firstContentAt: number | null;
  /** Gaps between content chunks in ms, when streamed. */
  gaps: number[];
  outputTokens: number;
  /** `usage.prompt_tokens`, when the server reported usage; 0 otherwise. */
  inputTokens: number;
  endAt: number;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Longest message kept from an error body: a proxy's whole HTML page is not one. */
const MESSAGE_CHARS = 300;

/**
 * `HTTP 404 NotFoundError`: the status and, when the body is an OpenAI error, its type; with the body's `message`
 * (vLLM's plain `{"error": "Unauthorized"}` string too), or the start of a body that is not JSON.
 */
async function httpFailure(status: number, body: Dispatcher.ResponseData['body']): Promise<AttemptOutcome> {
  const text = await body.text().catch(() => '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not an OpenAI error body (a proxy's HTML page, Envoy's plain text): the status is the key, its start the message.
    return failed(`HTTP ${status}`, text.trim().slice(0, MESSAGE_CHARS));
  }
  const error = isObject(parsed) ? parsed.error : undefined;
  if (typeof error === 'string') return failed(`HTTP ${status}`, error);
  if (!isObject(error)) return failed(`HTTP ${status}`, text.slice(0, MESSAGE_CHARS));
  const message = typeof error.message === 'string' ? error.message : '';
  return failed(typeof error.type === 'string' ? `HTTP ${status} ${error.type}` : `HTTP ${status}`, message);
}

/** Prompt tokens of a whole response's `usage`; 0 without one. */
function wholeResponsePromptTokens(parsed: unknown): number {
  return isObject(parsed) && isObject(parsed.usage) && typeof parsed.usage.prompt_tokens === 'number' ? parsed.usage.prompt_tokens : 0;
}

/** Output tokens of a whole (non-streamed) response: `usage`, else estimated from the text. */
function wholeResponseTokens(parsed: unknown): number {
  if (!isObject(parsed)) return 0;
  const usage = parsed.usage;
  if (isObject(usage) && typeof usage.completion_tokens === 'number') return usage.completion_tokens;
  let text = '';
  for (const c of Array.isArray(parsed.choices) ? parsed.choices : []) {
    if (!isObject(c)) continue;
    if (typeof c.text === 'string') text += c.text;
    if (isObject(c.message) && typeof c.message.content === 'string') text += c.message.content;
  }
  return estimateTokens(text);
}

function failed(error: string, errorMessage = '', aborted = false): AttemptOutcome {
  return { ok: false, aborted, error, errorMessage, servedBy: null, firstContentAt: null, gaps: [], outputTokens: 0, inputTokens: 0, endAt: performance.now() };
}

/** Counted under this key: requests the run stopped waiting for (grace period over, or the caller aborted). */
const UNFINISHED = 'unfinished (aborted at the end of the run)';

function connectionErrorKey(e: unknown, signal: AbortSignal): { key: string; aborted: boolean } {
  const err = e as { code?: unknown; name?: unknown };
  if (signal.aborted || err.code === 'UND_ERR_ABORTED' || err.name === 'AbortError') return { key: UNFINISHED, aborted: true };
  const code = typeof err.code === 'string' ? err.code : typeof err.name === 'string' ? err.name : 'unknown';
  return { key: `connection error ${code}`, aborted: false };
}

/**
 * POSTs `payload` to `path` (with `apiKey` as `Authorization: Bearer`) and reads the whole response. Never throws:
 * every way an attempt can end is an outcome. A response that is not an event stream is read as a whole body even
 * when streaming was asked for.
 */
export async function sendAttempt(
  dispatcher: Dispatcher,
  path: string,
  payload: string,
  signal: AbortSignal,
  apiKey?: string,
): Promise<AttemptOutcome> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (apiKey !== undefined) headers.authorization = `Bearer ${apiKey}`;
  try {
    const res = await dispatcher.request({ path, method: 'POST', headers, body: payload, signal });
    if (res.statusCode < 200 || res.statusCode > 299) return await httpFailure(res.statusCode, res.body);
    const servedBy = servedEndpointFrom(res.headers);
    const contentType = header(res.headers, 'content-type') ?? '';
    if (!contentType.includes('text/event-stream')) {
      const text = await res.body.text();
      const endAt = performance.now();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        // What did answer (a login page, a health check's "OK", a wrong path's index) is what tells the user the URL is wrong.
        return failed('invalid JSON response', `${contentType === '' ? 'no content-type' : contentType}: ${text.trim().slice(0, MESSAGE_CHARS)}`);
      }
      const outputTokens = wholeResponseTokens(parsed);
      return { ok: true, aborted: false, error: '', errorMessage: '', servedBy, firstContentAt: null, gaps: [], outputTokens, inputTokens: wholeResponsePromptTokens(parsed), endAt };
    }
    const meter = new StreamMeter();
    for await (const chunk of res.body as AsyncIterable<Buffer>) meter.push(chunk, performance.now());
    const endAt = performance.now();
    meter.end(endAt);
    if (meter.error !== null) return failed(meter.error, meter.errorMessage);
    if (!meter.done) return failed('stream ended without [DONE]');
    const outputTokens = meter.usageTokens ?? meter.contentChunks;
    const inputTokens = meter.promptTokens ?? 0;
    return { ok: true, aborted: false, error: '', errorMessage: '', servedBy, firstContentAt: meter.firstContentAt, gaps: meter.gaps, outputTokens, inputTokens, endAt };
  } catch (e) {
    const { key, aborted } = connectionErrorKey(e, signal);
    return failed(key, aborted ? '' : (e as Error).message ?? '', aborted);
  }
}
