/** A pick's request headers per attempt: set, replaced, and taken off by a later pick without them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPickHeaders } from './pick-headers.js';

test("each attempt carries its own pick's headers; one without any carries none of the last one's", () => {
  const headers: Record<string, string | string[]> = { 'content-type': 'application/json' };
  let last = applyPickHeaders(headers, { 'x-prefiller-host-port': '10.0.0.3:8000', 'x-encoder-hosts-ports': undefined }, undefined);
  assert.deepEqual(headers, { 'content-type': 'application/json', 'x-prefiller-host-port': '10.0.0.3:8000' });
  last = applyPickHeaders(headers, { 'x-prefiller-host-port': undefined, 'x-encoder-hosts-ports': '10.0.0.4:8000' }, last);
  assert.deepEqual(headers, { 'content-type': 'application/json', 'x-encoder-hosts-ports': '10.0.0.4:8000' });
  // A FailOpen pick after the scheduler failed has no headers of its own: the prefill and encode pods go.
  last = applyPickHeaders(headers, undefined, last);
  assert.deepEqual(headers, { 'content-type': 'application/json' });
  assert.equal(last, undefined);
});
