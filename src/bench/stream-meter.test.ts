/** StreamMeter: which chunks count as output, and how TTFT, gaps and usage come out of a stream. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamMeter } from './stream-meter.js';

const event = (o: unknown): Buffer => Buffer.from(`data: ${typeof o === 'string' ? o : JSON.stringify(o)}\n\n`);
const chat = (delta: object, finish: string | null = null): object => ({ object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] });

test('chat stream: the role chunk is not output; content chunks give TTFT and gaps; usage wins over counting', () => {
  const m = new StreamMeter();
  m.push(event(chat({ role: 'assistant', content: '' })), 10);
  m.push(event(chat({ content: 'a' })), 20);
  m.push(Buffer.concat([event(chat({ content: 'b' })), event(chat({ content: 'c' }, 'stop'))]), 25);
  m.push(Buffer.concat([event({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } }), event('[DONE]')]), 26);
  m.end(27);
  assert.equal(m.firstContentAt, 20);
  assert.deepEqual(m.gaps, [5, 0], 'chunks read together share a timestamp');
  assert.equal(m.contentChunks, 3);
  assert.equal(m.usageTokens, 5);
  assert.equal(m.done, true);
  assert.equal(m.error, null);
});

test('completions text, reasoning deltas and tool calls count as output; empty text does not', () => {
  const m = new StreamMeter();
  m.push(event({ choices: [{ index: 0, text: '' }] }), 1);
  m.push(event({ choices: [{ index: 0, text: 'x' }] }), 2);
  m.push(event(chat({ reasoning_content: 'hmm' })), 3);
  m.push(event(chat({ tool_calls: [{ index: 0 }] })), 4);
  assert.equal(m.firstContentAt, 2);
  assert.equal(m.contentChunks, 3);
  assert.equal(m.done, false, 'no [DONE] yet');
});

test('a mid-stream error event is reported', () => {
  const m = new StreamMeter();
  m.push(event(chat({ content: 'a' })), 1);
  m.push(Buffer.concat([event({ error: { message: 'boom', type: 'InternalServerError', code: 500 } }), event('[DONE]')]), 2);
  assert.equal(m.error, 'stream error 500');
});
