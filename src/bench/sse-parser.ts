/** Incremental Server-Sent Events parsing over raw byte chunks: yields each event's `data`, decoding only data lines. */

const LF = 0x0a;
const CR = 0x0d;
const DATA = Buffer.from('data:');

/**
 * Feed byte chunks as they arrive; each call returns the data of the events the chunk completed. Lines may end in
 * LF or CRLF (https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream); several
 * `data:` lines of one event are joined with '\n'. Only the unfinished last line is kept between chunks.
 */
export class SseParser {
  #rest: Buffer | null = null;
  #data: string[] = [];

  push(chunk: Buffer): string[] {
    const buf = this.#rest === null ? chunk : Buffer.concat([this.#rest, chunk]);
    const events: string[] = [];
    let start = 0;
    for (let nl = buf.indexOf(LF, start); nl >= 0; nl = buf.indexOf(LF, start)) {
      const end = nl > start && buf[nl - 1] === CR ? nl - 1 : nl;
      this.#line(buf, start, end, events);
      start = nl + 1;
    }
    this.#rest = start < buf.length ? buf.subarray(start) : null;
    return events;
  }

  /** Call at the end of the body: an event not closed by a blank line still counts (servers often omit it). */
  end(): string[] {
    const events: string[] = [];
    if (this.#rest !== null) {
      const buf = this.#rest;
      this.#rest = null;
      this.#line(buf, 0, buf[buf.length - 1] === CR ? buf.length - 1 : buf.length, events);
    }
    if (this.#data.length > 0) events.push(this.#data.splice(0).join('\n'));
    return events;
  }

  #line(buf: Buffer, start: number, end: number, events: string[]): void {
    if (start === end) {
      if (this.#data.length > 0) events.push(this.#data.splice(0).join('\n'));
      return;
    }
    // Comments (":"), event:, id: and retry: lines carry nothing a benchmark needs.
    if (end - start < DATA.length || buf.compare(DATA, 0, DATA.length, start, start + DATA.length) !== 0) return;
    let from = start + DATA.length;
    if (buf[from] === 0x20) from++;
    this.#data.push(buf.toString('utf8', from, end));
  }
}
