/**
 * Watches a model server's response go by, chunk by chunk, without holding it back: when token events arrive
 * (time to first token, gaps between tokens) and the `usage` the server reports at the end, streamed or not.
 */
import type { RequestObserver, RequestRecord, Usage } from './request-record.js';

/** How much of the end of the response is kept to find `usage` in: it sits in the last event or object. */
const TAIL_BYTES = 2048;
const EMPTY = Buffer.alloc(0);
const USAGE_KEY = Buffer.from('"usage"');
/**
 * How much of a line's start decides what it is: `data: [DONE]` plus a few spaces, and the longest event name
 * that announces no token (`event: response.in_progress`, see NO_TOKEN_EVENTS), with room to spare.
 */
const HEAD_BYTES = 32;

/**
 * SSE event names whose `data:` line carries no token. The Responses API opens a stream with `response.created`
 * and `response.in_progress` (`response.queued` in the background) as soon as the request is accepted, before
 * the prompt is even prefilled: counted as tokens, they made its TTFT the time to the response headers and put
 * the whole prefill into one inter-token gap. Anthropic's `ping` is a keep-alive.
 */
const NO_TOKEN_EVENTS: readonly Buffer[] = ['response.created', 'response.in_progress', 'response.queued', 'ping'].map((n) => Buffer.from(n));

/**
 * One tap per response. `chunk` is called with each piece as it passes to the client (the tap only reads it;
 * src/upstream/send-attempt.ts calls it before writing the piece on);
 * `end` parses the usage from what it kept. Server-sent events are recognised by their `text/event-stream`
 * content type: every `data:` event other than `[DONE]` counts as a token event, but for the events named in
 * NO_TOKEN_EVENTS.
 */
export class ResponseTap {
  readonly #record: RequestRecord;
  readonly #observer: RequestObserver | undefined;
  readonly #sse: boolean;
  /**
   * The last chunks seen, by reference (no copy per chunk): the fewest whose bytes, less the first's, stay under
   * TAIL_BYTES, so they hold at least the last TAIL_BYTES, where `usage` is. Joined only at the end.
   */
  #tail: Buffer[] = [];
  #tailBytes = 0;
  /**
   * The current line's first bytes when they come over several chunks, enough to tell `data: [DONE]` from a token
   * event; made on first need (a line whose start is within one chunk is read where it is).
   */
  #head: Buffer = EMPTY;
  #headLength = 0;
  /** Whether the current line was already counted (or not): the rest of it is skipped. */
  #decided = false;
  /** The current event was named by one of NO_TOKEN_EVENTS: its `data:` line is no token event. */
  #noToken = false;

  constructor(record: RequestRecord, contentType: string | undefined, observer?: RequestObserver) {
    this.#record = record;
    this.#observer = observer;
    this.#sse = contentType !== undefined && contentType.includes('text/event-stream');
  }

  chunk(data: Buffer): void {
    const r = this.#record;
    r.responseBytes += data.length;
    if (this.#sse) this.#countEvents(data);
    this.#keepTail(data);
  }

  /** Parses `usage` from the kept tail into the record. */
  end(): void {
    // A retrieved (or cancelled) stored response repeats its creation's usage: polling one is no new tokens.
    if (this.#record.storedResponse === true) return;
    const kept = this.#tail;
    const joined = kept.length === 1 ? kept[0]! : Buffer.concat(kept, this.#tailBytes);
    const tail = joined.length > TAIL_BYTES ? joined.subarray(joined.length - TAIL_BYTES) : joined;
    // Found in the bytes first: only the usage object onwards is decoded (its names and digits are ASCII).
    const at = lastUsageKey(tail);
    if (at < 0) return;
    // The Anthropic Messages API opens its stream with the prompt's count and no output yet (message_start); the
    // answer's usage comes in message_delta at the end. A stream cut before that reported none: taken as final,
    // the opening count charged a tenant for its prompt alone, however much it had streamed before hanging up.
    if (this.#sse && opensMessage(tail, at)) return;
    const usage = parseUsage(tail.toString('latin1', at));
    if (usage) this.#record.usage = usage;
  }

  #countEvents(data: Buffer): void {
    let events = 0;
    let at = 0;
    while (at < data.length) {
      const nl = data.indexOf(10, at);
      const lineEnd = nl < 0 ? data.length : nl;
      if (!this.#decided) {
        if (this.#headLength === 0 && (nl >= 0 || lineEnd - at >= HEAD_BYTES)) {
          // The line's start is all in this chunk (nearly always): read it in place.
          this.#decided = true;
          events += this.#line(data, at, Math.min(lineEnd, at + HEAD_BYTES));
        } else {
          // Collect the line's first bytes (they come over several chunks) until they say what it is.
          if (this.#head.length === 0) this.#head = Buffer.alloc(HEAD_BYTES);
          const take = Math.min(lineEnd - at, HEAD_BYTES - this.#headLength);
          data.copy(this.#head, this.#headLength, at, at + take);
          this.#headLength += take;
          if (this.#headLength === HEAD_BYTES || nl >= 0) {
            this.#decided = true;
            events += this.#line(this.#head, 0, this.#headLength);
          }
        }
      }
      if (nl < 0) break;
      at = nl + 1;
      this.#headLength = 0;
      this.#decided = false;
    }
    if (events === 0) return;
    const now = performance.now();
    const r = this.#record;
    if (r.firstTokenAt === undefined) r.firstTokenAt = now;
    // Events that arrive in one chunk are one gap apart from the previous chunk, then zero apart.
    else if (r.lastTokenAt !== undefined) this.#observer?.interTokenGap?.(r, (now - r.lastTokenAt) / 1000);
    r.lastTokenAt = now;
    r.tokenEvents += events;
  }

  /**
   * 1 when the line whose first bytes are `from`..`to` (the whole line when shorter than HEAD_BYTES) is a token
   * event, else 0; follows the event names that announce none, until their event ends.
   */
  #line(b: Buffer, from: number, to: number): number {
    const c = b[from];
    // "d": a data line, the common case, first.
    if (c === 0x64) {
      if (!isTokenEvent(b, from, to)) return 0;
      if (!this.#noToken) return 1;
      this.#noToken = false;
      return 0;
    }
    // An event name; or a blank line (the event's end), which forgets one.
    if (c === 0x65) this.#noToken = to - from < HEAD_BYTES && isNoTokenEventName(b, from, to);
    else if (to === from || (c === 0x0d && to - from === 1)) this.#noToken = false;
    return 0;
  }

  #keepTail(data: Buffer): void {
    const kept = this.#tail;
    if (data.length >= TAIL_BYTES) {
      kept.length = 0;
      kept.push(data.subarray(data.length - TAIL_BYTES));
      this.#tailBytes = TAIL_BYTES;
      return;
    }
    kept.push(data);
    this.#tailBytes += data.length;
    while (this.#tailBytes - kept[0]!.length >= TAIL_BYTES) this.#tailBytes -= kept.shift()!.length;
  }
}

/** The `type` of the Anthropic Messages API's first stream event. */
const MESSAGE_START = Buffer.from('"message_start"');

/** Whether the `"usage"` at `at` sits in a message_start event: its data line names that type before it. */
function opensMessage(b: Buffer, at: number): boolean {
  const lineStart = b.lastIndexOf(10, at) + 1;
  const k = b.indexOf(MESSAGE_START, lineStart);
  return k >= 0 && k < at;
}

/** Tails up to this size are searched for `"usage"` in JS: a native `lastIndexOf` call costs more than the scan. */
const SCAN_BYTES = 512;

/** Where the last `"usage"` starts in `b`, or -1. */
export function lastUsageKey(b: Buffer): number {
  if (b.length > SCAN_BYTES) return b.lastIndexOf(USAGE_KEY);
  // `"usage"`, byte by byte: the quote first, which rules out nearly every position at once.
  for (let i = b.length - 7; i >= 0; i--) {
    if (b[i] === 0x22 && b[i + 6] === 0x22 && b[i + 1] === 0x75 && b[i + 2] === 0x73 && b[i + 3] === 0x61 && b[i + 4] === 0x67 && b[i + 5] === 0x65) return i;
  }
  return -1;
}

/**
 * Whether the line starting at `from` (its first bytes up to `to`) is `data: <anything but [DONE]>`. Byte by
 * byte: a native compare per line cost more than the few bytes it compares.
 */
function isTokenEvent(b: Buffer, from: number, to: number): boolean {
  // "data:"
  if (to - from < 5 || b[from] !== 0x64 || b[from + 1] !== 0x61 || b[from + 2] !== 0x74 || b[from + 3] !== 0x61 || b[from + 4] !== 0x3a) return false;
  let i = from + 5;
  while (i < to && b[i] === 32) i++;
  if (i >= to) return false;
  // "[DONE]"
  return !(to - i >= 6 && b[i] === 0x5b && b[i + 1] === 0x44 && b[i + 2] === 0x4f && b[i + 3] === 0x4e && b[i + 4] === 0x45 && b[i + 5] === 0x5d);
}

/** Whether the whole line `from`..`to` is `event:` naming one of NO_TOKEN_EVENTS (spaces and a CR around it allowed). */
function isNoTokenEventName(b: Buffer, from: number, to: number): boolean {
  // "event:"
  if (to - from < 6 || b[from + 1] !== 0x76 || b[from + 2] !== 0x65 || b[from + 3] !== 0x6e || b[from + 4] !== 0x74 || b[from + 5] !== 0x3a) return false;
  let i = from + 6;
  while (i < to && b[i] === 32) i++;
  let end = to;
  while (end > i && (b[end - 1] === 32 || b[end - 1] === 0x0d)) end--;
  for (const name of NO_TOKEN_EVENTS) if (end - i === name.length && b.compare(name, 0, name.length, i, end) === 0) return true;
  return false;
}

/**
 * The last `usage` object in `text`: OpenAI's `prompt_tokens`, `completion_tokens` and
 * `prompt_tokens_details.cached_tokens` (vLLM reports the last only with prefix caching stats on); the Responses
 * API names them `input_tokens` and `output_tokens` (`input_tokens_details.cached_tokens`), read when the first
 * two are absent, or a tenant's `/v1/responses` answers would never count against its token limits. Each is the
 * first `"name": <digits>` after the last `"usage"`, read with indexOf and char codes rather than regular expressions
 * (with the tail scan in lastUsageKey: 741 against 953 ns per whole answer, bench/response-observers.ts).
 */
export function parseUsage(text: string): Usage | undefined {
  const at = text.lastIndexOf('"usage"');
  if (at < 0) return undefined;
  let prompt = countAfter(text, '"prompt_tokens"', at);
  let completion = countAfter(text, '"completion_tokens"', at);
  if (prompt === undefined && completion === undefined) {
    prompt = countAfter(text, '"input_tokens"', at);
    completion = countAfter(text, '"output_tokens"', at);
  }
  if (prompt === undefined && completion === undefined) return undefined;
  const usage: Usage = { promptTokens: prompt ?? 0, completionTokens: completion ?? 0 };
  const cached = countAfter(text, '"cached_tokens"', at);
  if (cached !== undefined) usage.cachedTokens = cached;
  return usage;
}

/** The digits of the first `key`, optional spaces, `:`, optional spaces, digits, at or after `from`; else undefined. */
function countAfter(text: string, key: string, from: number): number | undefined {
  for (let k = text.indexOf(key, from); k >= 0; k = text.indexOf(key, k + 1)) {
    let i = skipSpaces(text, k + key.length);
    if (text.charCodeAt(i) !== 0x3a) continue;
    i = skipSpaces(text, i + 1);
    let n = 0;
    const start = i;
    for (let c = text.charCodeAt(i); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i)) n = n * 10 + (c - 0x30);
    if (i > start) return n;
  }
  return undefined;
}

/** The index of the first character at or after `i` that is not white space (the ASCII and Latin-1 ones a regular expression's `\s` matches). */
function skipSpaces(text: string, i: number): number {
  for (let c = text.charCodeAt(i); c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0; c = text.charCodeAt(++i));
  return i;
}
