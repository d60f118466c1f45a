/** quickJson: the same value as the incremental parser, or nothing (then the incremental parser decides). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsonBodyParser } from './json-body-parser.js';
import { DEFAULT_JSON_LIMITS } from './json-limits.js';
import { QUICK_JSON_MAX_BYTES, quickJson } from './quick-json.js';

function incremental(text: string | Buffer, limits = DEFAULT_JSON_LIMITS): unknown {
  const p = new JsonBodyParser(limits);
  p.write(Buffer.isBuffer(text) ? text : Buffer.from(text));
  return p.end()?.value;
}

describe('quickJson', () => {
  const same = [
    '{"model":"m","messages":[{"role":"user","content":"hi"}]}',
    '{"model":"a","model":"b"}',
    '{"__proto__":{"x":1},"model":"m"}',
    '{"s":"q\\"uote \\\\ back \\u00e9 \\ud83d\\ude00 [{"}',
    ' \n\t{"n":[1,-0.5,2e10,1e400,true,false,null,{}]}\r\n',
    '"just a string"',
    '[1,[2,[3]]]',
  ];
  for (const text of same) {
    test(`same value: ${text.slice(0, 40)}`, () => {
      const q = quickJson(Buffer.from(text), DEFAULT_JSON_LIMITS);
      assert.ok(q, 'took the quick way');
      assert.deepEqual(q.value, incremental(text));
      assert.equal((q as { modelSpan?: unknown }).modelSpan, undefined);
    });
  }

  test('a UTF-8 byte order mark opening the body is skipped, as by the incremental parser (and vLLM)', () => {
    const body = Buffer.from('\ufeff{"model":"m"}');
    assert.deepEqual(quickJson(body, DEFAULT_JSON_LIMITS)?.value, { model: 'm' });
    assert.deepEqual(incremental(body), { model: 'm' });
  });

  test('bad bytes in UTF-8 decode to the same replacement characters', () => {
    const body = Buffer.concat([Buffer.from('{"model":"m","x":"'), Buffer.from([0xff, 0xc3]), Buffer.from('"}')]);
    assert.deepEqual(quickJson(body, DEFAULT_JSON_LIMITS)?.value, incremental(body));
  });

  test('nothing for what the incremental parser must judge: invalid, empty, too deep, too large', () => {
    for (const text of ['', '   ', '{"model":', '{"a":1,}', ' \ufeff{"a":1}', "{'a':1}", '{"a":01}']) {
      assert.equal(quickJson(Buffer.from(text), DEFAULT_JSON_LIMITS), undefined, JSON.stringify(text));
    }
    const limits = { maxDepth: 3, maxValues: 100 };
    assert.ok(quickJson(Buffer.from('{"a":[{"b":1}]}'), limits), 'depth 3 is within 3');
    assert.equal(quickJson(Buffer.from('{"a":[[{"b":1}]]}'), limits), undefined, 'depth 4 is over 3');
    // Brackets inside strings, escaped quotes included, do not count.
    assert.ok(quickJson(Buffer.from('{"a":"[[[[\\"[[[["}'), limits));
    assert.equal(quickJson(Buffer.from(`{"a":"${'x'.repeat(200)}"}`), limits), undefined, 'more bytes than maxValues');
    assert.equal(quickJson(Buffer.from(`{"a":"${'x'.repeat(QUICK_JSON_MAX_BYTES)}"}`), DEFAULT_JSON_LIMITS), undefined, 'over the quick size');
  });
});
