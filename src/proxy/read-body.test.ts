/** readBody: limits, and a sink whose work on a chunk may wait (budget, work slice) before the body is whole. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { GatewayError } from '../errors.js';
import { readBody, type BodySink } from './read-body.js';

function request(chunks: string[], headers: Record<string, string> = {}): IncomingMessage {
  return Object.assign(Readable.from(chunks.map((c) => Buffer.from(c))), { headers }) as unknown as IncomingMessage;
}

const later = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe('readBody', () => {
  test('a sink that defers its work (on every chunk, the last included) sees every chunk, in order, before the body is returned', async () => {
    for (const deferEvery of [1, 2, 3]) {
      const seen: string[] = [];
      let n = 0;
      const sink: BodySink = {
        write: (c) => {
          if (++n % deferEvery !== 0) return void seen.push(c.toString());
          return later().then(() => void seen.push(c.toString()));
        },
        arrived: () => seen.push('<end>'),
      };
      const body = await readBody(request(['{"a"', ':[1,', '2]}']), 1000, sink);
      assert.equal(body.toString(), '{"a":[1,2]}');
      assert.deepEqual(seen, ['{"a"', ':[1,', '2]}', '<end>'], `deferring every ${deferEvery}`);
    }
  });

  test('what the sink throws, or its work rejects with, refuses the body', async () => {
    const boom = new GatewayError('invalid_json', 'bad');
    await assert.rejects(readBody(request(['a', 'b']), 1000, { write: () => { throw boom; } }), boom);
    await assert.rejects(readBody(request(['a', 'b']), 1000, { write: () => Promise.reject(boom) }), boom);
  });

  test('413 from a declared length before reading, and as the chunks pass the limit', async () => {
    await assert.rejects(readBody(request(['x'], { 'content-length': '11' }), 10), /request body of 11 bytes exceeds the gateway's limit of 10 bytes/);
    await assert.rejects(readBody(request(['123456', '789012']), 10), (e: unknown) => e instanceof GatewayError && e.code === 'request_too_large');
  });
});
