/**
 * Passes a server-sent-events stream on to the client event by event, leaving out the usage-only chunk
 * (`data: {..."choices":[],"usage":{...}}`) the gateway asked for on the client's behalf (src/tenancy/stream-usage.ts).
 */
import { Writable } from 'node:stream';

const LF = 0x0a;
const CR = 0x0d;
const USAGE_KEY = Buffer.from('"usage"');
/**
 * An event still open past this many bytes is not a usage chunk (those are a few hundred bytes): it passes on as
 * it arrives, so a large event is neither held nor kept whole.
 */
const MAX_HELD_BYTES = 16 * 1024;

/**
 * A Writable in front of the client's response. Each complete event goes on as soon as its blank line arrives,
 * in the same write as the bytes that completed it; only an event's unfinished tail waits for its end, which
 * delays nothing a client can see, since an SSE client dispatches an event only at its blank line. Events may
 * be split anywhere across writes; lines may end in LF, CRLF or CR (the SSE spec). Backpressure is the
 * response's: a write waits for its drain. The response ends when this does.
 */
export class UsageChunkFilter extends Writable {
  readonly #out: Writable;
  /** The open event's bytes so far, from earlier writes. */
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** The open event outgrew MAX_HELD_BYTES: its bytes pass on until it ends. */
  #passing = false;
  /** Whether the current line has no bytes yet (so a line end here ends the event). */
  #lineEmpty = true;
  /** The last byte was a CR: an LF now belongs to it. */
  #afterCR = false;
  /**
   * An event ended in CR at the end of a write: the LF that may start the next write is that event's (of its
   * CRLF), left out with it or passed with it.
   */
  #lfOf: 'dropped' | 'passed' | undefined;
  /** Usage-only chunks left out, for tests. */
  dropped = 0;

  constructor(out: Writable) {
    super();
    this.#out = out;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const data = this.#filter(chunk);
    if (data === undefined || this.#out.write(data)) done();
    else this.#out.once('drain', () => done());
  }

  override _final(done: (error?: Error | null) => void): void {
    // A stream that ended without a blank line: its last bytes go as they are.
    const rest = this.#held.length > 0 ? Buffer.concat(this.#held, this.#heldBytes) : undefined;
    this.#held = [];
    this.#heldBytes = 0;
    if (rest) this.#out.end(rest);
    else this.#out.end();
    done();
  }

  /** What of `chunk` (with what was held) goes to the client now; undefined for nothing. */
  #filter(chunk: Buffer): Buffer | undefined {
    let out: Buffer[] | undefined;
    const send = (b: Buffer): void => {
      if (b.length > 0) (out ??= []).push(b);
    };
    // The start in `chunk` of the bytes not yet sent or held: the open event's, or completed events' that pass.
    let from = 0;
    // The start in `chunk` of the open event (the held bytes come before it).
    let eventStart = 0;
    let i = 0;
    if (this.#lfOf !== undefined) {
      if (chunk[0] === LF) {
        this.#afterCR = false;
        eventStart = i = 1;
        if (this.#lfOf === 'dropped') from = 1;
      }
      this.#lfOf = undefined;
    }
    const n = chunk.length;
    for (; i < n; i++) {
      const c = chunk[i];
      if (c !== LF && c !== CR) {
        this.#lineEmpty = false;
        this.#afterCR = false;
        continue;
      }
      if (c === LF && this.#afterCR) {
        // The LF of a CRLF: the line ended at the CR.
        this.#afterCR = false;
        continue;
      }
      this.#afterCR = c === CR;
      if (!this.#lineEmpty) {
        this.#lineEmpty = true;
        continue;
      }
      // A blank line: the open event ends after it (and after the LF of its CRLF, when here).
      let end = i + 1;
      if (c === CR && chunk[end] === LF) {
        end++;
        i++;
        this.#afterCR = false;
      }
      if (this.#passing) {
        this.#passing = false;
      } else if (this.#isUsageOnly(chunk, eventStart, end)) {
        // Left out: the events before it go now, then nothing of it (its held start included).
        send(chunk.subarray(from, eventStart));
        this.#held = [];
        this.#heldBytes = 0;
        from = end;
        this.dropped++;
        if (end === n && this.#afterCR) this.#lfOf = 'dropped';
      } else if (this.#heldBytes > 0) {
        // A split event that passes: its held start goes first.
        for (const h of this.#held) send(h);
        this.#held = [];
        this.#heldBytes = 0;
      }
      if (end === n && this.#afterCR) this.#lfOf ??= 'passed';
      eventStart = end;
    }
    if (this.#passing) {
      send(chunk.subarray(from));
    } else {
      // Completed events go now; the open event's bytes wait for its end, unless it is too large to be usage.
      send(chunk.subarray(from, eventStart));
      const tail = chunk.subarray(eventStart);
      if (tail.length > 0) {
        if (this.#heldBytes + tail.length > MAX_HELD_BYTES) {
          for (const h of this.#held) send(h);
          send(tail);
          this.#held = [];
          this.#heldBytes = 0;
          this.#passing = true;
        } else {
          // Copied: the writer may reuse its buffer once the write returns.
          this.#held.push(Buffer.from(tail));
          this.#heldBytes += tail.length;
        }
      }
    }
    if (out === undefined) return undefined;
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** Whether the event (the held bytes, then `chunk[start, end)`) is a usage-only chunk. */
  #isUsageOnly(chunk: Buffer, start: number, end: number): boolean {
    const event = this.#heldBytes > 0 ? Buffer.concat([...this.#held, chunk.subarray(start, end)]) : chunk.subarray(start, end);
    // Most events name no usage: one native scan, and they pass.
    if (event.indexOf(USAGE_KEY) < 0) return false;
    return isUsageOnly(event.toString('utf8'));
  }
}

/** An event whose data is a chunk with no choices and a usage object: what `include_usage` adds before `[DONE]`. */
export function isUsageOnly(event: string): boolean {
  let data: string | undefined;
  for (const line of event.split(/\r\n|\r|\n/)) {
    if (!line.startsWith('data:')) continue;
    const value = line.charCodeAt(5) === 0x20 ? line.slice(6) : line.slice(5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  if (data === undefined) return false;
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch {
    return false;
  }
  if (chunk === null || typeof chunk !== 'object') return false;
  const { choices, usage } = chunk as { choices?: unknown; usage?: unknown };
  return Array.isArray(choices) && choices.length === 0 && usage !== null && typeof usage === 'object';
}
