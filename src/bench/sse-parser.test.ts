/** The incremental SSE parser: the same events however the bytes are split. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from './sse-parser.js';

function parseSplit(text: string, cuts: number[]): string[] {
  const bytes = Buffer.from(text);
  const parser = new SseParser();
  const events: string[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...parser.push(bytes.subarray(from, cut)));
    from = cut;
  }
  return [...events, ...parser.end()];
}

const CASES: { name: string; text: string; want: string[] }[] = [
  { name: 'LF events', text: 'data: {"a":1}\n\ndata: [DONE]\n\n', want: ['{"a":1}', '[DONE]'] },
  { name: 'CRLF events', text: 'data: {"a":1}\r\n\r\ndata: [DONE]\r\n\r\n', want: ['{"a":1}', '[DONE]'] },
  { name: 'no space after the colon', text: 'data:x\n\n', want: ['x'] },
  { name: 'two data lines join with a newline', text: 'data: a\ndata: b\n\n', want: ['a\nb'] },
  { name: 'comments, event and id lines are skipped', text: ': ping\nevent: message\nid: 3\ndata: y\n\n', want: ['y'] },
  { name: 'last event without a blank line', text: 'data: a\n\ndata: [DONE]', want: ['a', '[DONE]'] },
  { name: 'multi-byte UTF-8', text: 'data: {"c":"héllo ✓"}\n\n', want: ['{"c":"héllo ✓"}'] },
];

test('SseParser: table of streams, each split at every byte and in one piece', () => {
  for (const c of CASES) {
    assert.deepEqual(parseSplit(c.text, []), c.want, c.name);
    const length = Buffer.byteLength(c.text);
    for (let cut = 1; cut < length; cut++) assert.deepEqual(parseSplit(c.text, [cut]), c.want, `${c.name}, cut at ${cut}`);
    assert.deepEqual(parseSplit(c.text, Array.from({ length: length - 1 }, (_, i) => i + 1)), c.want, `${c.name}, byte by byte`);
  }
});
