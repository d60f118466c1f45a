import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STREAMED_CHUNK_BYTES, streamedBodyResponses } from './streamed-body.js';

test('bodies are re-sent in chunks of at most 62,000 bytes, end_of_stream on the last', () => {
  const cases: [number, boolean, number[], boolean[]][] = [
    [0, true, [0], [true]],
    [0, false, [], []],
    [1, true, [1], [true]],
    [STREAMED_CHUNK_BYTES, true, [62_000], [true]],
    [STREAMED_CHUNK_BYTES + 1, true, [62_000, 1], [false, true]],
    [1_048_576, true, [...new Array<number>(16).fill(62_000), 56_576], [...new Array<boolean>(16).fill(false), true]],
    [100_000, false, [62_000, 38_000], [false, false]],
  ];
  for (const [size, eos, sizes, ends] of cases) {
    const body = Buffer.alloc(size, 7);
    const out = streamedBodyResponses(body, eos);
    const streamed = out.map((r) => r.request_body!.response!.body_mutation!.streamed_response!);
    assert.deepEqual(streamed.map((s) => s.body!.length), sizes, `${size} bytes`);
    assert.deepEqual(streamed.map((s) => s.end_of_stream === true), ends, `${size} bytes`);
    assert.ok(Buffer.concat(streamed.map((s) => s.body!)).equals(body));
  }
});
