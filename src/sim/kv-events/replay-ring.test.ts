import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplayRing } from './replay-ring.js';

test('keeps the last `capacity` batches and answers from a sequence number, oldest first', () => {
  const ring = new ReplayRing(3);
  assert.deepEqual(ring.from(0), []);
  for (let seq = 0; seq < 5; seq++) ring.push(seq, Uint8Array.of(seq));
  assert.equal(ring.size, 3);
  assert.deepEqual(ring.from(0).map((b) => b.seq), [2, 3, 4], 'older ones fell out');
  assert.deepEqual(ring.from(3).map((b) => b.seq), [3, 4]);
  assert.deepEqual(ring.from(9), []);
  assert.deepEqual([...ring.from(4)[0]!.payload], [4]);
  assert.throws(() => ring.push(7, Uint8Array.of(7)), /expects seq 5/);
});

test('capacity 0 (buffer_steps 0) keeps nothing and still checks the numbering', () => {
  const ring = new ReplayRing(0);
  for (let seq = 0; seq < 3; seq++) ring.push(seq, Uint8Array.of(seq));
  assert.equal(ring.size, 0);
  assert.deepEqual(ring.from(0), []);
  assert.throws(() => ring.push(5, Uint8Array.of(5)), /expects seq 3/);
});
