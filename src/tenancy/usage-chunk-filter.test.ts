import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { once } from 'node:events';
import { UsageChunkFilter, isUsageOnly } from './usage-chunk-filter.js';

const ROLE = 'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}';
const TOKEN = (t: string, finish: string | null = null): string =>
  `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":${JSON.stringify(t)}},"logprobs":null,"finish_reason":${JSON.stringify(finish)}}]}`;
const USAGE = 'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":7,"total_tokens":10,"completion_tokens":3}}';
const DONE = 'data: [DONE]';

/** A stream as vLLM writes it, with `eol` as the line end. */
function stream(eol: string, withUsage: boolean): string {
  const events = [ROLE, TOKEN('Hello'), TOKEN(' there'), TOKEN('!', 'stop'), ...(withUsage ? [USAGE] : []), DONE];
  return events.map((e) => `${e}${eol}${eol}`).join('');
}

/** A client's response: collects what it is sent; `slow` takes each write a turn later (backpressure). */
class Sink extends Writable {
  readonly parts: Buffer[] = [];
  ended = false;
  constructor(slow = false) {
    super(slow ? { highWaterMark: 1 } : {});
    this.slow = slow;
  }
  readonly slow: boolean;
  override _write(chunk: Buffer, _e: BufferEncoding, done: () => void): void {
    this.parts.push(chunk);
    if (this.slow) setImmediate(done);
    else done();
  }
  override _final(done: () => void): void {
    this.ended = true;
    done();
  }
  get text(): string {
    return Buffer.concat(this.parts).toString();
  }
}

async function run(pieces: readonly Buffer[], slow = false): Promise<{ sink: Sink; filter: UsageChunkFilter }> {
  const sink = new Sink(slow);
  const filter = new UsageChunkFilter(sink);
  for (const p of pieces) if (!filter.write(p)) await once(filter, 'drain');
  filter.end();
  await once(sink, 'finish');
  return { sink, filter };
}

/** `text` cut at `at` (positions in bytes). */
function cut(text: string, at: readonly number[]): Buffer[] {
  const b = Buffer.from(text);
  const out: Buffer[] = [];
  let from = 0;
  for (const a of at) {
    out.push(b.subarray(from, a));
    from = a;
  }
  out.push(b.subarray(from));
  return out.filter((p) => p.length > 0);
}

test('the usage-only chunk is left out; every other event and [DONE] pass unchanged', async () => {
  const events = [ROLE, TOKEN('Hello'), TOKEN('!', 'stop'), USAGE, DONE].map((e) => Buffer.from(`${e}\n\n`));
  const { sink, filter } = await run(events);
  assert.equal(sink.text, [ROLE, TOKEN('Hello'), TOKEN('!', 'stop'), DONE].map((e) => `${e}\n\n`).join(''));
  assert.equal(filter.dropped, 1);
  assert.ok(sink.ended, 'the response ends with the stream');
});

test('events split anywhere, with LF, CRLF or CR line ends: the same events pass', async () => {
  for (const eol of ['\n', '\r\n', '\r']) {
    const input = stream(eol, true);
    const expected = stream(eol, false);
    // One cut at every byte, then every byte on its own.
    for (let at = 1; at < Buffer.byteLength(input); at++) {
      const { sink, filter } = await run(cut(input, [at]));
      assert.equal(sink.text, expected, `eol ${JSON.stringify(eol)}, cut at ${at}`);
      assert.equal(filter.dropped, 1);
    }
    const bytes = [...Buffer.from(input)].map((b) => Buffer.from([b]));
    assert.equal((await run(bytes)).sink.text, expected, `eol ${JSON.stringify(eol)}, byte by byte`);
  }
});

test('a usage chunk split over several writes is left out, and the LF of its CRLF with it', async () => {
  const input = `${TOKEN('a', 'stop')}\r\n\r\n${USAGE}\r\n\r\n${DONE}\r\n\r\n`;
  const start = input.indexOf(USAGE);
  const blank = input.indexOf('\r\n\r\n', start) + 3;
  // Inside the usage JSON, between its CR and LF, and right after the CR that ends it.
  const { sink, filter } = await run(cut(input, [start + 5, start + 60, start + 120, blank - 2, blank]));
  assert.equal(sink.text, `${TOKEN('a', 'stop')}\r\n\r\n${DONE}\r\n\r\n`);
  assert.equal(filter.dropped, 1);
});

test('a complete event goes to the client in the write that completed it, not later', async () => {
  const sink = new Sink();
  const filter = new UsageChunkFilter(sink);
  filter.write(Buffer.from(`${ROLE}\n\n${TOKEN('He')}`));
  await new Promise((r) => setImmediate(r));
  assert.equal(sink.text, `${ROLE}\n\n`, 'the complete event, not the open one');
  filter.write(Buffer.from('\n\n'));
  await new Promise((r) => setImmediate(r));
  assert.equal(sink.text, `${ROLE}\n\n${TOKEN('He')}\n\n`);
  filter.end();
  await once(sink, 'finish');
});

test('a client that asked for usage keeps it: chunks with choices pass whatever usage they carry', async () => {
  const withChoices = 'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"x"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}}';
  const usageNull = 'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"y"}}],"usage":null}';
  const mentions = TOKEN('the word "usage" in a reply');
  const input = [withChoices, usageNull, mentions, DONE].map((e) => `${e}\n\n`).join('');
  const { sink, filter } = await run([Buffer.from(input)]);
  assert.equal(sink.text, input);
  assert.equal(filter.dropped, 0);
});

test('isUsageOnly: data lines joined, comments and other fields ignored', () => {
  const cases: { event: string; usageOnly: boolean }[] = [
    { event: USAGE, usageOnly: true },
    { event: 'data:{"choices":[],"usage":{"prompt_tokens":1}}', usageOnly: true },
    { event: ': keep-alive\ndata: {"choices":[],\ndata: "usage":{"prompt_tokens":1}}', usageOnly: true },
    { event: 'data: {"choices":[],"usage":null}', usageOnly: false },
    { event: 'data: {"choices":[{}],"usage":{}}', usageOnly: false },
    { event: 'data: {"usage":{}}', usageOnly: false },
    { event: DONE, usageOnly: false },
    { event: 'data: {"choices":[],"usage":', usageOnly: false },
    { event: ': "usage"', usageOnly: false },
  ];
  for (const c of cases) assert.equal(isUsageOnly(c.event), c.usageOnly, c.event);
});

test('an event larger than a usage chunk passes as it arrives, not held to its end', async () => {
  const big = TOKEN('x'.repeat(40_000));
  const sink = new Sink();
  const filter = new UsageChunkFilter(sink);
  const b = Buffer.from(`${big}\n\n`);
  for (let at = 0; at < b.length - 2; at += 8192) filter.write(b.subarray(at, Math.min(at + 8192, b.length - 2)));
  await new Promise((r) => setImmediate(r));
  assert.ok(sink.text.length >= b.length - 2 - 16 * 1024, `most of the open event passed (${sink.text.length} bytes)`);
  filter.write(b.subarray(b.length - 2));
  filter.write(Buffer.from(`${USAGE}\n\n${DONE}\n\n`));
  filter.end();
  await once(sink, 'finish');
  assert.equal(sink.text, `${big}\n\n${DONE}\n\n`);
});

test("backpressure: a slow client gets every byte in order, the filter waits for the response's drain", async () => {
  const events = Array.from({ length: 50 }, (_, i) => Buffer.from(`${TOKEN(`t${i}`)}\n\n`));
  const { sink } = await run([...events, Buffer.from(`${USAGE}\n\n${DONE}\n\n`)], true);
  assert.equal(sink.text, Buffer.concat([...events, Buffer.from(`${DONE}\n\n`)]).toString());
});

test('a stream that ends without a blank line passes its last bytes', async () => {
  const { sink } = await run([Buffer.from(`${TOKEN('a')}\n\n${DONE}`)]);
  assert.equal(sink.text, `${TOKEN('a')}\n\n${DONE}`);
});
