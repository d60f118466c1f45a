/**
 * Watches a model server's response go by, chunk by chunk, without holding it back: when token events arrive
 * (time to first token, gaps between tokens) and the `usage` the server reports at the end, streamed or not.
 */
import type { RequestObserver, RequestRecord, Usage } from './request-record.js';

/** How much of the end of the response is kept to find `usage` in: it sits in the last event or object. */
const TAIL_BYTES = 2048;
const DATA = Buffer.from('data:');
const EMPTY = Buffer.alloc(0);
const USAGE_KEY = Buffer.from('"usage"');
const DONE = Buffer.from('[DONE]');
/** `data: [DONE]` plus a few spaces: how much of a line's start decides what it is. */
const HEAD_BYTES = 16;

/**
 * One tap per response. `chunk` is called with each piece as it passes to the client (the tap only reads it;
 * src/upstream/send-attempt.ts calls it before writing the piece on);
 * `end` parses the usage from what it kept. Server-sent events are recognised by their `text/event-stream`
 * content type: every `data:` event other than `[DONE]` counts as a token event.
 */
export class ResponseTap {
  readonly #record: RequestRecord;
  readonly #observer: RequestObserver | undefined;
  readonly #sse: boolean;
  /** The last bytes seen (at most TAIL_BYTES), where `usage` is; a whole small answer is kept by reference, not copied. */
  #tail: Buffer = EMPTY;
  /** The current line's first bytes, enough to tell `data: [DONE]` from a token event (server-sent events only). */
  readonly #head: Buffer;
  #headLength = 0;
  /** Whether the current line was already counted (or not): the rest of it is skipped. */
  #decided = false;

  constructor(record: RequestRecord, contentType: string | undefined, observer?: RequestObserver) {
    this.#record = record;
    this.#observer = observer;
    this.#sse = contentType !== undefined && contentType.includes('text/event-stream');
    this.#head = this.#sse ? Buffer.alloc(HEAD_BYTES) : EMPTY;
  }

  chunk(data: Buffer): void {
    const r = this.#record;
    r.responseBytes += data.length;
    if (this.#sse) this.#countEvents(data);
    this.#keepTail(data);
  }

  /** Parses `usage` from the kept tail into the record. */
  end(): void {
    // Found in the bytes first: only the usage object onwards is decoded (its names and digits are ASCII).
    const at = this.#tail.lastIndexOf(USAGE_KEY);
    if (at < 0) return;
    const usage = parseUsage(this.#tail.toString('latin1', at));
    if (usage) this.#record.usage = usage;
  }

  #countEvents(data: Buffer): void {
    let events = 0;
    let at = 0;
    while (at < data.length) {
      const nl = data.indexOf(10, at);
      const lineEnd = nl < 0 ? data.length : nl;
      if (!this.#decided) {
        // Collect the line's first bytes (they may come over several chunks) until they say what it is.
        const take = Math.min(lineEnd - at, HEAD_BYTES - this.#headLength);
        data.copy(this.#head, this.#headLength, at, at + take);
        this.#headLength += take;
        if (this.#headLength === HEAD_BYTES || nl >= 0) {
          this.#decided = true;
          if (isTokenEvent(this.#head.subarray(0, this.#headLength))) events++;
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

  #keepTail(data: Buffer): void {
    if (this.#tail.length === 0) this.#tail = data.length > TAIL_BYTES ? data.subarray(data.length - TAIL_BYTES) : data;
    else if (data.length >= TAIL_BYTES) this.#tail = data.subarray(data.length - TAIL_BYTES);
    else if (this.#tail.length + data.length <= TAIL_BYTES) this.#tail = Buffer.concat([this.#tail, data]);
    else this.#tail = Buffer.concat([this.#tail.subarray(this.#tail.length + data.length - TAIL_BYTES), data]);
  }
}

/** A line `data: <anything but [DONE]>`. */
function isTokenEvent(line: Buffer): boolean {
  if (!startsAt(line, DATA, 0)) return false;
  let i = DATA.length;
  while (line[i] === 32) i++;
  return !startsAt(line, DONE, i) && i < line.length;
}

function startsAt(data: Buffer, needle: Buffer, at: number): boolean {
  return at + needle.length <= data.length && data.compare(needle, 0, needle.length, at, at + needle.length) === 0;
}

/**
 * The last `usage` object in `text`: OpenAI's `prompt_tokens`, `completion_tokens` and
 * `prompt_tokens_details.cached_tokens` (vLLM reports the last only with prefix caching stats on).
 */
export function parseUsage(text: string): Usage | undefined {
  const at = text.lastIndexOf('"usage"');
  if (at < 0) return undefined;
  const rest = text.slice(at);
  const prompt = /"prompt_tokens"\s*:\s*(\d+)/.exec(rest);
  const completion = /"completion_tokens"\s*:\s*(\d+)/.exec(rest);
  if (!prompt && !completion) return undefined;
  const cached = /"cached_tokens"\s*:\s*(\d+)/.exec(rest);
  return {
    promptTokens: prompt ? Number(prompt[1]) : 0,
    completionTokens: completion ? Number(completion[1]) : 0,
    ...(cached ? { cachedTokens: Number(cached[1]) } : {}),
  };
}
