import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRequestRecord } from './request-record.js';
import { lastUsageKey, parseUsage, ResponseTap } from './response-tap.js';

const sse = (events: string[]): string => events.map((e) => `data: ${e}\n\n`).join('');

test('a stream: token events counted however the chunks cut them, [DONE] not counted, usage from the last event', () => {
  const body = sse(['{"choices":[{"text":"a"}],"usage":null}', '{"choices":[{"text":"b"}],"usage":null}', '{"choices":[{"text":"c"}],"usage":null}', '{"choices":[],"usage":{"prompt_tokens":12,"total_tokens":15,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":8}}}', '[DONE]']);
  const bytes = Buffer.from(body);
  // Every way of cutting the body in two, and bytes one at a time.
  const cuts: Buffer[][] = [[bytes], ...Array.from({ length: bytes.length - 1 }, (_, i) => [bytes.subarray(0, i + 1), bytes.subarray(i + 1)]), [...bytes].map((b) => Buffer.from([b]))];
  for (const chunks of cuts) {
    const r = newRequestRecord('id', 'POST', '/v1/completions', undefined);
    const tap = new ResponseTap(r, 'text/event-stream; charset=utf-8');
    for (const c of chunks) tap.chunk(c);
    tap.end();
    assert.equal(r.tokenEvents, 4, `cut into ${chunks.length} pieces at ${chunks[0]!.length}`);
    assert.equal(r.responseBytes, bytes.length);
    assert.deepEqual(r.usage, { promptTokens: 12, completionTokens: 3, cachedTokens: 8 });
    assert.ok(r.firstTokenAt !== undefined && r.lastTokenAt !== undefined && r.lastTokenAt >= r.firstTokenAt);
  }
});

test('what counts as a token event: data lines other than [DONE], read in place or across chunks alike', () => {
  // [line, counts]
  const table: [string, boolean][] = [
    ['data: {"x":1}', true],
    ['data:{"x":1}', true],
    ['data: [DONE]', false],
    ['data:[DONE]', false],
    ['data:   [DONE]', false],
    ['data: [DONE]\r', false],
    ['data: {"x":1}\r', true],
    ['data:', false],
    ['data:   ', false],
    ['data: [DONE', true],
    ['data', false],
    [': keep-alive comment', false],
    ['event: message', false],
    ['id: 7', false],
    ['Data: {"x":1}', false],
  ];
  for (const [line, counts] of table) {
    const bytes = Buffer.from(`${line}\n\n`);
    for (const chunks of [[bytes], [...bytes].map((b) => Buffer.from([b]))]) {
      const r = newRequestRecord('id', 'POST', '/v1/completions', undefined);
      const tap = new ResponseTap(r, 'text/event-stream');
      for (const c of chunks) tap.chunk(c);
      assert.equal(r.tokenEvents, counts ? 1 : 0, `${JSON.stringify(line)} in ${chunks.length} chunk(s)`);
    }
  }
});

test('a long stream: the usage in its last event is found whatever size its chunks are', () => {
  const tokens = Array.from({ length: 200 }, (_, i) => `{"choices":[{"delta":{"content":"token number ${i}"}}],"usage":null}`);
  const body = Buffer.from(sse([...tokens, '{"choices":[],"usage":{"prompt_tokens":40,"completion_tokens":200}}', '[DONE]']));
  assert.ok(body.length > 4 * 2048);
  for (const size of [1, 7, 100, 1000, 2047, 2048, 2049, 5000, body.length]) {
    const r = newRequestRecord('id', 'POST', '/v1/chat/completions', undefined);
    const tap = new ResponseTap(r, 'text/event-stream');
    for (let at = 0; at < body.length; at += size) tap.chunk(body.subarray(at, at + size));
    tap.end();
    assert.equal(r.tokenEvents, 201, `chunks of ${size}`);
    assert.deepEqual(r.usage, { promptTokens: 40, completionTokens: 200 }, `chunks of ${size}`);
  }
});

test('gaps between token events reach the observer, one per later chunk with events', (t) => {
  // The tap reads the monotonic clock; the test moves it, so the gap is known exactly.
  let clock = 1000;
  t.mock.method(performance, 'now', () => clock);
  const r = newRequestRecord('id', 'POST', '/v1/chat/completions', undefined);
  const gaps: number[] = [];
  const tap = new ResponseTap(r, 'text/event-stream', { interTokenGap: (_r, s) => gaps.push(s), ended: () => undefined });
  tap.chunk(Buffer.from(sse(['{"x":1}'])));
  clock += 100;
  tap.chunk(Buffer.from(': keep-alive comment\n\n'));
  clock += 150;
  tap.chunk(Buffer.from(sse(['{"x":2}', '{"x":3}'])));
  clock += 500;
  tap.chunk(Buffer.from(sse(['[DONE]'])));
  assert.equal(r.tokenEvents, 3);
  // From the first event to the next chunk with events: the comment and [DONE] are not token events.
  assert.deepEqual(gaps, [0.25]);
  assert.equal(r.firstTokenAt, 1000);
  assert.equal(r.lastTokenAt, 1250);
});

test('a JSON answer: no token events, usage from its end, even when the body is far longer than the kept tail', () => {
  const r = newRequestRecord('id', 'POST', '/v1/chat/completions', undefined);
  const tap = new ResponseTap(r, 'application/json');
  const body = JSON.stringify({ id: 'x', choices: [{ message: { content: 'data: not an event '.repeat(2000) } }], usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 } });
  for (let i = 0; i < body.length; i += 1000) tap.chunk(Buffer.from(body.slice(i, i + 1000)));
  tap.end();
  assert.equal(r.tokenEvents, 0);
  assert.equal(r.firstTokenAt, undefined);
  assert.deepEqual(r.usage, { promptTokens: 100, completionTokens: 20 });
});

test('parseUsage: table', () => {
  const cases: [string, ReturnType<typeof parseUsage>][] = [
    ['{"usage":null}', undefined],
    ['no usage here', undefined],
    ['{"usage": {"prompt_tokens": 5, "completion_tokens": 0}}', { promptTokens: 5, completionTokens: 0 }],
    ['{"usage":{"prompt_tokens":1,"completion_tokens":2}} then {"usage":{"prompt_tokens":3,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":2}}}', { promptTokens: 3, completionTokens: 4, cachedTokens: 2 }],
    // The Responses API's names (vLLM's and OpenAI's response.completed event, or a non-streamed response).
    ['{"usage":null}}} then {"usage":{"input_tokens":7,"input_tokens_details":{"cached_tokens":3},"output_tokens":200,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":207},"user":null}', { promptTokens: 7, completionTokens: 200, cachedTokens: 3 }],
    ['{"usage":{"output_tokens":4}}', { promptTokens: 0, completionTokens: 4 }],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseUsage(text), want, text);
});

/** What parseUsage read with regular expressions before it scanned: the reference its scan must agree with. */
function usageByRegExp(text: string): ReturnType<typeof parseUsage> {
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

test('parseUsage: agrees with the regular expressions it replaced, on spacing, keys without digits, repeats and cut text', () => {
  const cases = [
    '{"usage":{"prompt_tokens" :\t12 ,"completion_tokens":\r\n 7}}',
    '{"usage":{"prompt_tokens":"x","prompt_tokens": 9,"completion_tokens":}}',
    '{"usage":{"prompt_tokens":-3,"completion_tokens":1}}',
    '{"usage":{"prompt_tokens"::4,"completion_tokens":\u00a0 5}}',
    '{"usage":{"completion_tokens":0}}',
    '{"usage":{"prompt_tokens":3,"cached_tokens":,"x":{"cached_tokens":8}}}',
    '"prompt_tokens":5 before the "usage" key, none after',
    '{"usage":{"prompt_tokens":12',
    '{"usage":{"prompt_tokens":123456789012,"completion_tokens":00042}}',
  ];
  // Every prefix of each case: text cut anywhere (a tail that ends mid-number, mid-key) reads the same both ways.
  for (const c of cases) for (let n = 0; n <= c.length; n++) assert.deepEqual(parseUsage(c.slice(0, n)), usageByRegExp(c.slice(0, n)), c.slice(0, n));
});

test('lastUsageKey: the last "usage" key, scanned in short tails and found natively in long ones', () => {
  const key = Buffer.from('"usage"');
  for (const size of [0, 6, 7, 40, 511, 512, 513, 2048]) {
    for (const at of [-1, 0, Math.floor(size / 2), size - 7]) {
      const b = Buffer.alloc(Math.max(size, 0), 0x22);
      if (at >= 0 && at + 7 <= size) key.copy(b, at);
      // A "usage" earlier in the tail is not the one reported when a later one exists.
      if (at > 8) key.copy(b, 0);
      assert.equal(lastUsageKey(b), b.lastIndexOf(key), `size ${size}, at ${at}`);
    }
  }
  assert.equal(lastUsageKey(Buffer.from('"usag"usage"')), 5);
  assert.equal(lastUsageKey(Buffer.from('"usage')), -1);
});

test("a stored response retrieved: the usage in its answer is its creation's, not this request's", () => {
  const body = Buffer.from('{"id":"resp_1","object":"response","status":"completed","usage":{"input_tokens":7,"output_tokens":5,"total_tokens":12}}');
  const created = newRequestRecord('id', 'POST', '/v1/responses', undefined);
  const createdTap = new ResponseTap(created, 'application/json');
  createdTap.chunk(body);
  createdTap.end();
  assert.deepEqual(created.usage, { promptTokens: 7, completionTokens: 5 });
  const retrieved = newRequestRecord('id', 'GET', '/v1/responses/resp_1', undefined);
  retrieved.storedResponse = true;
  const tap = new ResponseTap(retrieved, 'application/json');
  tap.chunk(body);
  tap.end();
  assert.equal(retrieved.usage, undefined);
  assert.equal(retrieved.responseBytes, body.length);
});

test("a Responses API stream: response.created and response.in_progress, sent before the prefill, are no token events", (t) => {
  let clock = 1000;
  t.mock.method(performance, 'now', () => clock);
  const ev = (name: string, data: string): string => `event: ${name}\ndata: ${data}\n\n`;
  const r = newRequestRecord('id', 'POST', '/v1/responses', undefined);
  const gaps: number[] = [];
  const tap = new ResponseTap(r, 'text/event-stream; charset=utf-8', { interTokenGap: (_r, s) => gaps.push(s), ended: () => undefined });
  // At once, as vLLM accepts the request: no token yet.
  tap.chunk(Buffer.from(ev('response.created', '{"type":"response.created","response":{"usage":null}}') + ev('response.in_progress', '{"type":"response.in_progress"}')));
  clock += 400; // queueing and prefill
  tap.chunk(Buffer.from(ev('response.output_item.added', '{"type":"response.output_item.added"}') + ev('response.output_text.delta', '{"type":"response.output_text.delta","delta":"Hi"}')));
  clock += 20;
  tap.chunk(Buffer.from(ev('response.output_text.delta', '{"type":"response.output_text.delta","delta":"!"}')));
  clock += 1;
  tap.chunk(Buffer.from(ev('response.completed', '{"type":"response.completed","response":{"usage":{"input_tokens":5,"output_tokens":2}}}')));
  tap.end();
  assert.equal(r.firstTokenAt, 1400, 'the first token came with the output, not with response.created');
  assert.deepEqual(gaps, [0.02, 0.001], 'no gap holds the prefill');
  assert.equal(r.tokenEvents, 4);
  assert.deepEqual(r.usage, { promptTokens: 5, completionTokens: 2 });
});

test('event names that announce no token, however the chunks cut them; other names and their data count', () => {
  // [stream, token events]
  const table: [string, number][] = [
    ['event: response.created\ndata: {"x":1}\n\n', 0],
    ['event:response.in_progress\r\ndata: {"x":1}\r\n\r\n', 0],
    ['event: response.queued  \ndata: {"x":1}\n\n', 0],
    ['event: ping\ndata: {"type": "ping"}\n\n', 0],
    ['event: response.in_progress\ndata: {"x":1}\n\ndata: {"x":2}\n\n', 1],
    // The name covers its own event only: a blank line ends it even when it had no data.
    ['event: response.created\n\ndata: {"x":1}\n\n', 1],
    ['event: response.incomplete\ndata: {"x":1}\n\n', 1],
    ['event: response.created.later\ndata: {"x":1}\n\n', 1],
    ['event: response.output_text.delta\ndata: {"x":1}\n\n', 1],
    ['event: message_start\ndata: {"x":1}\n\n', 1],
  ];
  for (const [stream, count] of table) {
    const bytes = Buffer.from(stream);
    const cuts: Buffer[][] = [[bytes], ...Array.from({ length: bytes.length - 1 }, (_, i) => [bytes.subarray(0, i + 1), bytes.subarray(i + 1)]), [...bytes].map((b) => Buffer.from([b]))];
    for (const chunks of cuts) {
      const r = newRequestRecord('id', 'POST', '/v1/responses', undefined);
      const tap = new ResponseTap(r, 'text/event-stream');
      for (const c of chunks) tap.chunk(c);
      assert.equal(r.tokenEvents, count, `${JSON.stringify(stream)} in ${chunks.length} chunk(s), the first of ${chunks[0]!.length}`);
    }
  }
});

test("an Anthropic Messages stream: the usage is message_delta's; one cut before it reported none, not message_start's prompt count", () => {
  const ev = (name: string, data: string): string => `event: ${name}\ndata: ${data}\n\n`;
  // As vLLM streams /v1/messages (its message_start puts the usage beside the message; Anthropic's API inside it).
  const opening = [
    ev('message_start', '{"type":"message_start","message":{"id":"chatcmpl-1","content":[],"model":"m"},"usage":{"input_tokens":9,"output_tokens":0}}'),
    ev('content_block_start', '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}'),
    ev('content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}'),
    ev('content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" there"}}'),
  ].join('');
  const closing = [
    ev('content_block_stop', '{"type":"content_block_stop","index":0}'),
    ev('message_delta', '{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":9,"output_tokens":2}}'),
    ev('message_stop', '{"type":"message_stop"}'),
    'data: [DONE]\n\n',
  ].join('');
  const anthropicOpening = ev('message_start', '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"usage":{"input_tokens":9,"output_tokens":1}}}');
  // [body, usage]
  const table: [string, unknown][] = [
    [opening + closing, { promptTokens: 9, completionTokens: 2 }],
    [opening, undefined],
    [opening.slice(0, opening.indexOf('event: content_block_start')), undefined],
    [anthropicOpening, undefined],
    [anthropicOpening + ev('message_delta', '{"type":"message_delta","usage":{"output_tokens":4}}'), { promptTokens: 0, completionTokens: 4 }],
  ];
  for (const [body, usage] of table) {
    const bytes = Buffer.from(body);
    for (const chunks of [[bytes], [...bytes].map((b) => Buffer.from([b]))]) {
      const r = newRequestRecord('id', 'POST', '/v1/messages', undefined);
      const tap = new ResponseTap(r, 'text/event-stream; charset=utf-8');
      for (const c of chunks) tap.chunk(c);
      tap.end();
      assert.deepEqual(r.usage, usage, body.slice(0, 80));
    }
  }
  // A JSON answer names no message_start: its usage stands.
  const r = newRequestRecord('id', 'POST', '/v1/messages', undefined);
  const tap = new ResponseTap(r, 'application/json');
  tap.chunk(Buffer.from('{"id":"chatcmpl-1","type":"message","content":[{"type":"text","text":"message_start"}],"usage":{"input_tokens":3,"output_tokens":1}}'));
  tap.end();
  assert.deepEqual(r.usage, { promptTokens: 3, completionTokens: 1 });
});
