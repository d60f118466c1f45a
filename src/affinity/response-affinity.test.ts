/** ResponseAffinity, storedResponseRef and ResponseIdTap: the map from response ids to endpoints, and how it is filled and read. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseAffinity, type ResponseOwner } from './response-affinity.js';
import { ResponseIdTap } from './response-id-tap.js';
import { storedResponseAllow, storedResponseRef } from './stored-response-path.js';

const owner = (endpoint: string): ResponseOwner => ({ endpoint, pool: 'default/qwen', model: 'qwen-lora', baseModel: 'Qwen/Qwen3-0.6B' });

describe('ResponseAffinity', () => {
  test('bounded: the least recently used id goes first, and a lookup counts as a use', () => {
    const a = new ResponseAffinity(2);
    a.remember('resp_1', owner('10.0.0.1:8000'));
    a.remember('resp_2', owner('10.0.0.2:8000'));
    assert.equal(a.lookup('resp_1')?.endpoint, '10.0.0.1:8000');
    a.remember('resp_3', owner('10.0.0.1:8000'));
    assert.equal(a.size, 2);
    assert.equal(a.lookup('resp_2'), undefined);
    assert.equal(a.lookup('resp_1')?.endpoint, '10.0.0.1:8000');
    assert.equal(a.lookup('resp_3')?.model, 'qwen-lora');
  });

  test('responses of one endpoint and model share one owner object; forget removes an id', () => {
    const a = new ResponseAffinity(10);
    a.remember('resp_1', owner('10.0.0.1:8000'));
    a.remember('resp_2', owner('10.0.0.1:8000'));
    assert.equal(a.lookup('resp_1'), a.lookup('resp_2'));
    a.forget('resp_1');
    assert.equal(a.lookup('resp_1'), undefined);
    assert.equal(a.size, 1);
  });
});

describe('storedResponseRef', () => {
  const cases: [method: string, path: string, want: ReturnType<typeof storedResponseRef>][] = [
    ['GET', '/v1/responses/resp_abc', { action: 'retrieve', id: 'resp_abc' }],
    ['HEAD', '/v1/responses/resp_abc', { action: 'retrieve', id: 'resp_abc' }],
    ['DELETE', '/v1/responses/resp_abc', { action: 'delete', id: 'resp_abc' }],
    ['POST', '/v1/responses/resp_abc/cancel', { action: 'cancel', id: 'resp_abc' }],
    ['GET', '/v1/responses/resp%2Fodd', { action: 'retrieve', id: 'resp/odd' }],
    ['POST', '/v1/responses', undefined],
    ['POST', '/v1/responses/resp_abc', undefined],
    ['GET', '/v1/responses/', undefined],
    ['GET', '/v1/responses/resp_abc/input_items', { action: 'retrieve', id: 'resp_abc' }],
    ['GET', '/v1/responses/resp_abc/other', undefined],
    ['GET', '/v1/responses/%E0%A4%A', undefined],
    ['GET', '/v1/chat/completions', undefined],
  ];
  for (const [method, path, want] of cases) test(`${method} ${path}`, () => assert.deepEqual(storedResponseRef(method, path), want));
});

describe('storedResponseAllow', () => {
  const cases: [method: string, path: string, want: string | undefined][] = [
    ['PUT', '/v1/responses/resp_abc', 'GET, HEAD, DELETE'],
    ['POST', '/v1/responses/resp_abc', 'GET, HEAD, DELETE'],
    ['GET', '/v1/responses/resp_abc', undefined],
    ['DELETE', '/v1/responses/resp_abc', undefined],
    ['GET', '/v1/responses/resp_abc/cancel', 'POST'],
    ['POST', '/v1/responses/resp_abc/cancel', undefined],
    ['POST', '/v1/responses/resp_abc/input_items', 'GET, HEAD'],
    ['OPTIONS', '/v1/responses/resp_abc', undefined],
    ['POST', '/v1/responses', undefined],
    ['PUT', '/v1/responses/', undefined],
    ['PUT', '/v1/responses/resp_abc/other', undefined],
    ['PUT', '/v1/responses/a/b/c', undefined],
  ];
  for (const [method, path, want] of cases) test(`${method} ${path}`, () => assert.equal(storedResponseAllow(method, path), want));
});

describe('ResponseIdTap', () => {
  const whole = Buffer.from('{"id":"resp_0123abcd","object":"response","output":[{"id":"msg_1"}]}');
  const streamed = Buffer.from(
    'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_feed","object":"response"}}\n\n' +
      'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":"msg_2","delta":"hi"}\n\n',
  );
  const cases: { name: string; body: Buffer; split: number[]; id: string | undefined }[] = [
    { name: 'a whole response in one chunk', body: whole, split: [], id: 'resp_0123abcd' },
    { name: 'a whole response cut inside the id', body: whole, split: [3, 12], id: 'resp_0123abcd' },
    { name: 'a stream: the id of response.created', body: streamed, split: [30, 90], id: 'resp_feed' },
    { name: 'an id past the first 4 KiB is not looked for', body: Buffer.from(`{"pad":"${'x'.repeat(5000)}","id":"resp_late"}`), split: [1000], id: undefined },
    { name: 'no id at all', body: Buffer.from('{"object":"response"}'), split: [], id: undefined },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const ids: string[] = [];
      const passed: Buffer[] = [];
      const tap = new ResponseIdTap((id) => ids.push(id), { chunk: (d) => passed.push(d) });
      let from = 0;
      for (const at of [...c.split, c.body.length]) {
        tap.chunk(c.body.subarray(from, at));
        from = at;
      }
      assert.deepEqual(ids, c.id === undefined ? [] : [c.id]);
      // Every byte passes on to the next tap, in order.
      assert.deepEqual(Buffer.concat(passed), c.body);
    });
  }
});
