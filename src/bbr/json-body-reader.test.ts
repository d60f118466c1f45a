/** JsonBodyReader: small bodies the quick way, large ones incrementally, with the same values and errors. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GatewayError } from '../errors.js';
import { JsonBodyParser } from './json-body-parser.js';
import { DEFAULT_JSON_LIMITS } from './json-limits.js';
import { JsonBodyReader } from './json-body-reader.js';
import { QUICK_JSON_MAX_BYTES } from './quick-json.js';

function viaReader(chunks: readonly string[], limits = DEFAULT_JSON_LIMITS): unknown {
  const r = new JsonBodyReader(limits);
  for (const c of chunks) r.write(Buffer.from(c));
  return r.end();
}

function viaParser(chunks: readonly string[], limits = DEFAULT_JSON_LIMITS): unknown {
  const p = new JsonBodyParser(limits);
  for (const c of chunks) p.write(Buffer.from(c));
  return p.end();
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof GatewayError);
    return `${e.code}: ${e.message}`;
  }
  assert.fail('expected an error');
}

describe('JsonBodyReader', () => {
  test('a small body in several chunks: the same value, without the span', () => {
    const chunks = ['{"model":"m",', '"messages":[{"role":"user",', '"content":"hi"}]}'];
    assert.deepEqual((viaReader(chunks) as { value: unknown }).value, (viaParser(chunks) as { value: unknown }).value);
  });

  test('a large body goes to the incremental parser, its span included', () => {
    const big = 'x'.repeat(QUICK_JSON_MAX_BYTES);
    const chunks = [`{"messages":"${big}",`, '"model":"m"}'];
    assert.deepEqual(viaReader(chunks), viaParser(chunks));
    assert.ok((viaReader(chunks) as { modelSpan?: unknown }).modelSpan);
  });

  test('the same errors as the incremental parser, small and large', () => {
    for (const chunks of [['{"model":'], ['{"a":1,}'], [''], ['{"a":[[[["b"]]]]}']]) {
      const limits = { maxDepth: 3, maxValues: 1000 };
      const reader = (): unknown => viaReader(chunks, limits);
      if (chunks[0] === '') {
        assert.equal(reader(), undefined);
        continue;
      }
      assert.equal(errorOf(reader), errorOf(() => viaParser(chunks, limits)));
    }
  });

  test('a large body over a limit is refused as it arrives, before its end', () => {
    const r = new JsonBodyReader({ maxDepth: 3, maxValues: 1_000_000 });
    r.write(Buffer.from('{"a":[[[['));
    // Still kept: nothing read yet.
    assert.throws(() => r.write(Buffer.from(`"${'x'.repeat(QUICK_JSON_MAX_BYTES)}"`)), (e: unknown) => e instanceof GatewayError && e.code === 'invalid_json');
  });
});
