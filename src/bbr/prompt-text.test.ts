/** promptText: the text prefix scoring hashes, as JSON.stringify would write it, cut to a bound, at any depth. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../seeded-random.js';
import { jsonText, promptText } from './prompt-text.js';

describe('promptText', () => {
  const messages = [{ role: 'system', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: 'hi "there"\n' }] }, { role: 'assistant', content: null, n: -0, big: Number('1e400') }];
  const cases: [string, Record<string, unknown> | undefined, string][] = [
    ['no body', undefined, ''],
    ['a completion prompt', { prompt: 'Hello' }, 'Hello'],
    ['a list prompt: its strings joined', { prompt: ['a', 1, 'b', null, 'c'] }, 'abc'],
    ['token ids only', { prompt: [1, 2, 3] }, ''],
    ['chat messages as JSON.stringify writes them', { messages }, JSON.stringify(messages)],
    ['neither', { input: 'x' }, ''],
  ];
  for (const [name, json, want] of cases) test(name, () => assert.equal(promptText(json), want));

  test("the Anthropic Messages API's prompt: its system (a string, or its blocks as JSON) before the messages' JSON", () => {
    const chat = [{ role: 'user', content: 'hi' }];
    const blocks = [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }];
    const table: [Record<string, unknown>, string][] = [
      [{ system: 'Be brief. ', messages: chat }, `Be brief. ${JSON.stringify(chat)}`],
      [{ system: blocks, messages: chat }, `${JSON.stringify(blocks)}${JSON.stringify(chat)}`],
      [{ system: null, messages: chat }, JSON.stringify(chat)],
      [{ messages: chat }, JSON.stringify(chat)],
    ];
    for (const [json, want] of table) assert.equal(promptText(json, undefined, undefined, 'messages'), want, JSON.stringify(json));
    // An OpenAI body's `system` (none has one) is not read.
    assert.equal(promptText({ system: 'x', messages: chat }), JSON.stringify(chat));
    const long = 'y'.repeat(5000);
    for (const max of [3, 10, 5003, 20_000]) {
      for (const bytes of [64, Infinity]) assert.equal(promptText({ system: long, messages: chat }, max, bytes, 'messages'), `${long}${JSON.stringify(chat)}`.slice(0, max), `max ${max}, ${bytes} bytes`);
    }
  });

  test("the Responses API's prompt: its instructions, then its input as a string or its items as JSON; an embedding's input is none", () => {
    const items = [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }];
    const table: [Record<string, unknown>, string][] = [
      [{ input: 'Hello' }, 'Hello'],
      [{ instructions: 'Be brief. ', input: 'Hello' }, 'Be brief. Hello'],
      [{ instructions: 'Be brief. ', input: items }, `Be brief. ${JSON.stringify(items)}`],
      [{ instructions: { not: 'text' }, input: 'Hello' }, 'Hello'],
      [{ instructions: 'only' }, ''],
    ];
    for (const [json, want] of table) {
      assert.equal(promptText(json, undefined, undefined, 'responses'), want, JSON.stringify(json));
      assert.equal(promptText(json), '', `without the shape: ${JSON.stringify(json)}`);
    }
    const long = 'x'.repeat(5000);
    for (const max of [3, 10, 5003, 20_000]) {
      assert.equal(promptText({ instructions: 'abc', input: long }, max, undefined, 'responses'), `abc${long}`.slice(0, max), `max ${max}`);
      assert.equal(promptText({ instructions: long, input: items }, max, 64, 'responses'), `${long}${JSON.stringify(items)}`.slice(0, max), `max ${max}, small body`);
      assert.equal(promptText({ instructions: long, input: items }, max, Infinity, 'responses'), `${long}${JSON.stringify(items)}`.slice(0, max), `max ${max}, walked`);
    }
  });

  test('cut to the bound, each kind a prefix of the whole text', () => {
    const long = 'x'.repeat(5000);
    assert.equal(promptText({ prompt: long }, 100), long.slice(0, 100));
    assert.equal(promptText({ prompt: [long, long] }, 100), long.slice(0, 100));
    const chat = [{ role: 'user', content: `a\n"b"${long}` }, { role: 'user', content: long }];
    for (const max of [1, 10, 17, 100, 5100, 20_000]) assert.equal(promptText({ messages: chat }, max), JSON.stringify(chat).slice(0, max), `max ${max}`);
  });

  test('a small body (its size given) gets the same text the quick way as a large one the walked way', () => {
    const chat = [{ role: 'system', content: 'Be \u00e9 "brief".\n' }, { role: 'user', content: [{ type: 'text', text: 'x'.repeat(300) }], n: 1e21 }];
    const body = Buffer.from(JSON.stringify({ model: 'm', messages: chat }));
    for (const max of [1, 10, 100, 5000]) {
      const quick = promptText({ messages: chat }, max, body.length);
      assert.equal(quick, promptText({ messages: chat }, max), `max ${max}`);
      assert.equal(quick, JSON.stringify(chat).slice(0, max));
    }
  });

  test('any depth: no recursion, so no stack overflow', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = i % 2 === 0 ? [deep] : { k: deep };
    assert.equal(jsonText(deep, 10_000_000), `${'{"k":['.repeat(50_000)}"leaf"${']}'.repeat(50_000)}`);
  });

  test('random values: the same text as JSON.stringify', () => {
    const rand = seededRandom(7);
    const value = (depth: number): unknown => {
      const r = rand();
      if (depth > 5 || r < 0.4) return [0, -1.5, 1e21, true, false, null, '', 'é\u0000"\\', '😀'][Math.floor(rand() * 9)];
      const n = Math.floor(rand() * 5);
      if (r < 0.7) return Array.from({ length: n }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: n }, (_, i) => [['__proto__', 'a', '1', 'k'][i % 4]! + String(i), value(depth + 1)]));
    };
    for (let i = 0; i < 300; i++) {
      const v = JSON.parse(JSON.stringify(value(0))) as unknown;
      assert.equal(jsonText(v, 1_000_000), JSON.stringify(v));
    }
  });
});
