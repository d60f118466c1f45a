/** Client-side timing of one streamed OpenAI response: first content chunk, gaps between content chunks, usage. */
import { SseParser } from './sse-parser.js';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmpty(v: unknown): boolean {
  return (typeof v === 'string' && v !== '') || (Array.isArray(v) && v.length > 0);
}

/** Does this chunk carry generated output? A role-only opening delta or a usage-only chunk does not. */
function hasContent(chunk: Json): boolean {
  const choices = chunk.choices;
  if (!Array.isArray(choices)) return false;
  for (const c of choices) {
    if (!isObject(c)) continue;
    if (nonEmpty(c.text)) return true;
    const d = c.delta;
    // Reasoning models stream their thinking before any content; it is still output the user waits for.
    if (isObject(d) && (nonEmpty(d.content) || nonEmpty(d.reasoning_content) || nonEmpty(d.reasoning) || nonEmpty(d.tool_calls))) return true;
  }
  return false;
}

/**
 * Feed it the body's byte chunks with their arrival time. Chunks that arrive in one read share a timestamp, so an
 * inter-token gap can be 0: that is what the client saw.
 */
export class StreamMeter {
  readonly #parser = new SseParser();
  /** Arrival time of the first content chunk (performance.now()), or null. */
  firstContentAt: number | null = null;
  #lastContentAt = 0;
  /** Gaps between consecutive content chunks, in ms. */
  readonly gaps: number[] = [];
  contentChunks = 0;
  /** `usage.completion_tokens` from a usage chunk, when the server sent one. */
  usageTokens: number | null = null;
  /** `usage.prompt_tokens` from a usage chunk, when the server sent one. */
  promptTokens: number | null = null;
  /** A mid-stream `{"error": ...}` event, summarised; the stream then failed although its status was 200. */
  error: string | null = null;
  /** That event's `message`, or ''. */
  errorMessage = '';
  /** Whether `data: [DONE]` arrived; a stream without it was cut short. */
  done = false;

  push(bytes: Buffer, at: number): void {
    for (const data of this.#parser.push(bytes)) this.#event(data, at);
  }

  end(at: number): void {
    for (const data of this.#parser.end()) this.#event(data, at);
  }

  #event(data: string, at: number): void {
    if (data === '[DONE]') {
      this.done = true;
      return;
    }
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      this.error ??= 'stream: event is not JSON';
      return;
    }
    if (!isObject(chunk)) return;
    if (isObject(chunk.error)) {
      const e = chunk.error;
      if (this.error === null) {
        this.error = `stream error ${String(e.code ?? e.type ?? '')}`.trim();
        this.errorMessage = typeof e.message === 'string' ? e.message : '';
      }
      return;
    }
    if (isObject(chunk.usage) && typeof chunk.usage.completion_tokens === 'number') this.usageTokens = chunk.usage.completion_tokens;
    if (isObject(chunk.usage) && typeof chunk.usage.prompt_tokens === 'number') this.promptTokens = chunk.usage.prompt_tokens;
    if (!hasContent(chunk)) return;
    this.contentChunks++;
    if (this.firstContentAt === null) this.firstContentAt = at;
    else this.gaps.push(at - this.#lastContentAt);
    this.#lastContentAt = at;
  }
}
