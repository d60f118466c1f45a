/** JsonBodyParser gives what JSON.parse gives, for any chunking and window size, and refuses what it refuses. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../errors.js';
import { seededRandom } from '../seeded-random.js';
import { JsonBodyParser, type JsonBody } from './json-body-parser.js';

const LIMITS = { maxDepth: 1000, maxValues: 10_000_000 };
const WINDOWS = [3, 8, 64, 32 * 1024];

/** Splits a body: whole, byte by byte, and at random sizes. */
function chunkings(body: Buffer, rand: () => number): Buffer[][] {
  const random: Buffer[] = [];
  for (let i = 0; i < body.length; ) {
    const n = 1 + Math.floor(rand() * 40);
    random.push(body.subarray(i, i + n));
    i += n;
  }
  const bytes = body.length <= 4096 ? [Array.from({ length: body.length }, (_, i) => body.subarray(i, i + 1))] : [];
  return [[body], random, ...bytes];
}

function parse(chunks: readonly Buffer[], windowBytes: number): JsonBody | undefined {
  const p = new JsonBodyParser(LIMITS, { windowBytes });
  for (const c of chunks) p.write(c);
  return p.end();
}

function assertSameAsJsonParse(body: Buffer, label: string): void {
  const expected: unknown = JSON.parse(body.toString('utf8'));
  const rand = seededRandom(body.length);
  for (const w of WINDOWS) {
    for (const chunks of chunkings(body, rand)) {
      assert.deepStrictEqual(parse(chunks, w)?.value, expected, `${label}: window ${w}, ${chunks.length} chunk(s)`);
    }
  }
}

describe('JsonBodyParser', () => {
  const long = 'x'.repeat(100);
  const docs: [string, string | Buffer][] = [
    ['a chat request', '{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"temperature":0.7}'],
    ['empty containers', '{"a":[],"b":{},"c":[[],{}],"d":[{}]}'],
    ['scalars at the top', '"text"'],
    ['a number at the top', '-12.5e-3'],
    ['literals', '[true,false,null,true]'],
    ['numbers', '[0,-0,1,-1,1.5,1e400,-1e-400,123456789012345678901234567890,0.1e+2,1E2]'],
    ['brackets and quotes inside strings', '{"a":"[{\\"}]\\\\","b":"}}]]","c":"\\"["}'],
    ['escapes', '["\\n\\t\\r\\b\\f\\/\\\\\\"","\\u00e9\\u4e2d\\ud83d\\ude00","\\ud800 lone","\\uDFFF"]'],
    ['multi-byte UTF-8 in long strings', `["${'é中😀'.repeat(40)}","${'😀'.repeat(50)}"]`],
    ['invalid UTF-8 inside a string', Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xe2, 0x82, 0x61, 0xff, 0x80, 0x80, 0xf0, 0x9f]), Buffer.from('x'.repeat(30)), Buffer.from([0xc3]), Buffer.from('"}')])],
    ['__proto__ and duplicate keys', '{"__proto__":{"polluted":1},"a":1,"b":[1,2],"a":{"x":2},"constructor":3,"2":"two","1":"one"}'],
    ['a long key', `{"${long}":1,"${long}b":[1,2,3],"${long}c":{"k":"${long}"},"model":"m"}`],
    ['whitespace everywhere', ' \n\t{ "a" : [ 1 , 2 , { "b" : null } ] , "c" : "d" } \r\n'],
    ['deep nesting', `${'['.repeat(200)}1${']'.repeat(200)}`],
    ['many members', `{${Array.from({ length: 300 }, (_, i) => `"k${i}":${i}`).join(',')}}`],
    ['a big array of token ids', `{"model":"m","prompt":[${Array.from({ length: 2000 }, (_, i) => i * 7).join(',')}]}`],
  ];
  for (const [name, doc] of docs) test(name, () => assertSameAsJsonParse(Buffer.from(doc), name));

  test('random documents', () => {
    const rand = seededRandom(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const strings = ['', 'a', 'model', '"q"', '\\', '\n', 'é', '中文', '😀', '\u0000', '\ud800', '[{', 'x'.repeat(70)];
    const value = (depth: number): unknown => {
      const r = rand();
      if (depth > 6 || r < 0.4) return pick<unknown>([0, -1, 1.25, 1e21, true, false, null, ...strings]);
      const n = Math.floor(rand() * 6);
      if (r < 0.7) return Array.from({ length: n }, () => value(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) o[pick(strings) + String(Math.floor(rand() * 5))] = value(depth + 1);
      return o;
    };
    for (let i = 0; i < 150; i++) {
      const text = JSON.stringify(value(0), null, rand() < 0.3 ? 1 : undefined);
      assertSameAsJsonParse(Buffer.from(text), `random #${i}: ${text.slice(0, 80)}`);
    }
  });

  test('the model span is where the top-level model is, the last one when it repeats', () => {
    const cases: [string, string | undefined][] = [
      ['{"model":"m","x":{"model":"inner"}}', '"m"'],
      ['{"x":[{"model":1}],"model" : " spaced " }', '" spaced "'],
      ['{"model":"a","model":{"b":[1]}}', '{"b":[1]}'],
      ['{"mod\\u0065l":"escaped"}', '"escaped"'],
      ['{"x":{"model":"only nested"}}', undefined],
    ];
    for (const [doc, span] of cases) {
      for (const w of WINDOWS) {
        const body = Buffer.from(doc);
        const s = parse([body], w)?.modelSpan;
        assert.equal(s ? body.subarray(s.start, s.end).toString() : undefined, span, `${doc} (window ${w})`);
      }
    }
  });

  test('a UTF-8 byte order mark opening the body is skipped, as vLLM (json.loads of the bytes: utf-8-sig) does; the model span stays where it is', () => {
    const doc = '{"model":"m","messages":[{"role":"user","content":"hé"}]}';
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(doc)]);
    for (const w of WINDOWS) {
      for (const chunks of chunkings(body, seededRandom(7))) {
        const r = parse(chunks, w);
        assert.deepStrictEqual(r?.value, JSON.parse(doc), `window ${w}, ${chunks.length} chunk(s)`);
        const span = r?.modelSpan;
        assert.equal(span && body.subarray(span.start, span.end).toString(), '"m"');
      }
    }
  });

  test('a broken byte order mark is not JSON: EF BB, or EF alone, then the value', () => {
    for (const start of [[0xef, 0xbb], [0xef]]) {
      const body = Buffer.concat([Buffer.from(start), Buffer.from('{}')]);
      for (const chunks of chunkings(body, seededRandom(3))) {
        assert.throws(() => parse(chunks, 8), (e: unknown) => e instanceof GatewayError && e.code === 'invalid_json' && /at byte \d, expected the rest of the UTF-8 byte order mark/.test(e.message));
      }
    }
  });

  test('an empty body is undefined; whitespace alone is not JSON', () => {
    assert.equal(parse([], 8), undefined);
    assert.throws(() => parse([Buffer.from('  \n')], 8), /holds no JSON value/);
  });

  const invalid: [string, string, RegExp][] = [
    ['a trailing comma in an array', '[1,2,]', /unexpected '\]' at byte 5/],
    ['a trailing comma in an object', '{"a":1,}', /unexpected '\}' at byte 7, expected a key/],
    ['a missing colon', '{"a" 1}', /expected ':'/],
    ['a single-quoted key', "{'a':1}", /expected a key in double quotes/],
    ['a leading zero', '[01]', /unexpected '1'/],
    ['a bare minus', '[-]', /a digit after -/],
    ['a dot without digits', '[1.]', /a digit after the decimal point/],
    ['an exponent without digits', '[1e+]', /a digit of the exponent/],
    ['a bad literal', '[tru]', /expected 'true'/],
    ['a bad escape', '["\\x"]', /invalid escape \\x/],
    ['a short unicode escape', '["\\u12"]', /not a hex digit/],
    ['a raw newline in a string', '["a\nb"]', /control character byte 0x0a/],
    ['two values', '{} {}', /expected nothing after the JSON value/],
    ['an unclosed object', '{"a":[1,2]', /1 array\(s\) or object\(s\) still open/],
    ['an unclosed string', '{"a":"b', /ends inside a string/],
    ['a byte order mark after whitespace', ' \ufeff{}', /unexpected byte 0xef at byte 1/],
    ['a byte order mark inside the value', '{\ufeff}', /unexpected byte 0xef at byte 1/],
    ['a byte order mark after the value', '{}\ufeff', /unexpected byte 0xef at byte 2/],
    ['two byte order marks', '\ufeff\ufeff{}', /unexpected byte 0xef at byte 3/],
    ['a mismatched bracket', '[1}', /expected ',' or '\]'/],
  ];
  for (const [name, doc, message] of invalid) {
    test(`refuses ${name}`, () => {
      assert.throws(() => JSON.parse(doc));
      for (const w of WINDOWS) {
        for (const chunks of chunkings(Buffer.from(doc), seededRandom(1))) {
          assert.throws(
            () => parse(chunks, w),
            (e: unknown) => e instanceof GatewayError && e.code === 'invalid_json' && e.status === 400 && message.test(e.message),
          );
        }
      }
    });
  }

  test('after an error, every later call throws the same error', () => {
    const p = new JsonBodyParser(LIMITS, { windowBytes: 8 });
    assert.throws(() => p.write(Buffer.from('[1,,')), /unexpected ','/);
    assert.throws(() => p.write(Buffer.from('2]')), /unexpected ','/);
    assert.throws(() => p.end(), /unexpected ','/);
  });
});

test('strings longer than maxStringChars are cut to it, and counted', () => {
  const long = 'é'.repeat(300);
  const doc = Buffer.from(JSON.stringify({ model: 'm', prompt: long, short: 'abc', list: [long, 'x'] }));
  for (const windowBytes of [8, 64]) {
    const parsed = new JsonBodyParser(LIMITS, { windowBytes, maxStringChars: 100 });
    parsed.write(doc);
    const r = parsed.end();
    assert.deepStrictEqual(r?.value, { model: 'm', prompt: long.slice(0, 100), short: 'abc', list: [long.slice(0, 100), 'x'] }, `window ${windowBytes}`);
    assert.equal(r?.cutStrings, 2);
  }
});
