/** Tests for the simulator's deterministic embeddings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cosine, embedText, normalize, toBase64 } from './embedding-vector.js';

const norm = (v: readonly number[]): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

test('unit vectors of the asked length, the same for the same words in any case or punctuation', () => {
  for (const text of ['', '?!', 'hello', 'Hello, world!', 'x '.repeat(500)]) {
    const v = embedText(text, 64);
    assert.equal(v.length, 64);
    assert.ok(Math.abs(norm(v) - 1) < 1e-9, JSON.stringify(text));
  }
  assert.deepEqual(embedText('Hello, World!', 32), embedText('hello world', 32));
  assert.notDeepEqual(embedText('', 32), embedText('?!', 32));
});

test('texts sharing words are closer than texts that do not', () => {
  const d = 256;
  const query = embedText('how do inference gateways route requests', d);
  const related = embedText('Inference gateways route requests to pods.', d);
  const unrelated = embedText('bananas are yellow and grow in bunches', d);
  assert.ok(cosine(query, related) > cosine(query, unrelated) + 0.1);
  assert.ok(Math.abs(cosine(query, query) - 1) < 1e-9);
  assert.equal(cosine([0, 0], [1, 0]), 0);
  assert.deepEqual(normalize([3, 4]), [0.6, 0.8]);
});

test('base64 is little-endian float32, as the OpenAI client decodes it', () => {
  const v = [0.5, -1, 0.25];
  const buf = Buffer.from(toBase64(v), 'base64');
  assert.equal(buf.length, 12);
  assert.deepEqual([buf.readFloatLE(0), buf.readFloatLE(4), buf.readFloatLE(8)], v);
});
