/** What of a pod's response headers reaches the client. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { passResponseHeaders } from './response-headers.js';

const raw = (...pairs: string[]): Buffer[] => pairs.map((s) => Buffer.from(s, 'latin1'));

test("a pod's CORS headers (vLLM's default allows every origin) are dropped: the gateway's policy is the one in force", () => {
  const { list, contentType } = passResponseHeaders(
    raw('Content-Type', 'application/json', 'Access-Control-Allow-Origin', '*', 'access-control-allow-credentials', 'true', 'Access-Control-Expose-Headers', 'x-a', 'vary', 'Origin', 'x-kept', '1'),
  );
  assert.deepEqual(list, ['content-type', 'application/json', 'vary', 'Origin', 'x-kept', '1']);
  assert.equal(contentType, 'application/json');
});

test('hop-by-hop headers and the ones the gateway sets itself are dropped, the rest kept in order with duplicates', () => {
  const { list } = passResponseHeaders(raw('Connection', 'keep-alive, x-hop', 'x-hop', '1', 'Keep-Alive', 'timeout=5', 'x-request-id', 'pod', 'set-cookie', 'a=1', 'set-cookie', 'b=2'));
  assert.deepEqual(list, ['set-cookie', 'a=1', 'set-cookie', 'b=2']);
});
