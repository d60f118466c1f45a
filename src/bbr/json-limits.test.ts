/** The JSON limits as the body parser applies them: depth and value counts, wherever the chunks split the body. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../errors.js';
import { JsonBodyParser } from './json-body-parser.js';
import type { JsonLimits } from './json-limits.js';

const LIMITS: JsonLimits = { maxDepth: 4, maxValues: 12 };

/** Every way to cut `body` in two, and byte by byte. */
function splits(body: Buffer): Buffer[][] {
  const out: Buffer[][] = [[body], Array.from({ length: body.length }, (_, i) => body.subarray(i, i + 1))];
  for (let i = 1; i < body.length; i++) out.push([body.subarray(0, i), body.subarray(i)]);
  return out;
}

function parse(chunks: readonly Buffer[], windowBytes: number): unknown {
  const p = new JsonBodyParser(LIMITS, { windowBytes });
  for (const c of chunks) p.write(c);
  return p.end()?.value;
}

describe('JSON limits', () => {
  const within: [string, string][] = [
    ['depth exactly at the limit', '[[[[]]]]'],
    ['depth at the limit, objects and arrays mixed', '{"a":[{"b":[1]}]}'],
    ['siblings do not add depth', '[[[[1]]],[[[2]]]]'],
    ['brackets inside a string do not count', '["[[[[[[[[[[{{{{{{", "]]]]"]'],
    ['an escaped quote does not end the string', '["a\\"[[[[[[\\"]"]'],
    ['an escaped backslash before the closing quote', '["\\\\", [[1]]]'],
    ['values exactly at the limit (keys count)', '{"a":1,"b":[2,3,4],"c":{"d":null}}'],
    ['a long string is one value', `["${'x'.repeat(500)}"]`],
  ];
  for (const [name, doc] of within) {
    test(`accepts ${name}`, () => {
      const body = Buffer.from(doc);
      for (const w of [4, 64]) for (const chunks of splits(body)) assert.deepStrictEqual(parse(chunks, w), JSON.parse(doc), `${chunks.length} chunk(s), window ${w}`);
    });
  }

  const over: [string, string, RegExp][] = [
    ['depth one over the limit', '[[[[[]]]]]', /nests arrays and objects more than 4 levels deep \(at byte 4\).*--max-json-depth 4.*raise --max-json-depth/],
    ['depth over the limit after an escaped backslash', '["\\\\", [[[[1]]]]]', /more than 4 levels deep \(at byte 10\)/],
    ['depth over the limit inside an object', '{"a":{"b":{"c":{"d":{}}}}}', /more than 4 levels deep \(at byte 20\)/],
    ['one value over the limit', '{"a":1,"b":[2,3],"c":{"d":null},"e":0}', /holds more than 12 JSON values .*at byte 36.*--max-json-values 12.*raise --max-json-values/],
    ['too many values in a flat array', `[${'1,'.repeat(20)}1]`, /more than 12 JSON values \(.*at byte 23\)/],
  ];
  for (const [name, doc, message] of over) {
    test(`refuses ${name}, naming the limit and its flag`, () => {
      const body = Buffer.from(doc);
      for (const w of [4, 64]) {
        for (const chunks of splits(body)) {
          assert.throws(
            () => parse(chunks, w),
            (e: unknown) => e instanceof GatewayError && e.status === 400 && e.code === 'invalid_json' && message.test(e.message),
            `${chunks.length} chunk(s), window ${w}`,
          );
        }
      }
    });
  }

  test('a body over a limit is refused by the chunk that crosses it, not at its end', () => {
    const p = new JsonBodyParser(LIMITS);
    p.write(Buffer.from('{"model":"m","messages":'));
    assert.throws(() => p.write(Buffer.from('[[[[[[[[')), /more than 4 levels deep/);
  });

  test('10,000 levels deep: refused at the first level past the limit, with no stack overflow', () => {
    const p = new JsonBodyParser({ maxDepth: 128, maxValues: 1_000_000 });
    const deep = Buffer.from(`{"model":"m","messages":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
    assert.throws(() => p.write(deep), (e: unknown) => e instanceof GatewayError && /more than 128 levels deep \(at byte 151\)/.test(e.message));
  });
});
