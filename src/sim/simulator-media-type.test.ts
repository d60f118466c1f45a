/** The JSON endpoints take only application/json, as vLLM's `validate_json_request` does. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testSimulator } from './test-kit.js';

const HOST = '127.0.172.4';
const BODY = JSON.stringify({ model: 'base-model', prompt: 'hi', max_tokens: 1 });

test("a JSON body sent as another media type is vLLM's 400 'Unsupported Media Type', on every JSON endpoint", async (t) => {
  const sim = await testSimulator(t, { host: HOST, ttftMs: 0, itlMs: 0 });
  // curl -d sends application/x-www-form-urlencoded; fetch with a string body, text/plain; none at all.
  for (const contentType of ['application/x-www-form-urlencoded', 'text/plain;charset=UTF-8', undefined, 'application/jsonx']) {
    for (const path of ['/v1/completions', '/v1/chat/completions', '/v1/embeddings', '/v1/responses', '/tokenize', '/score', '/rerank', '/pooling']) {
      const res = await fetch(`${sim.url}${path}`, { method: 'POST', body: Buffer.from(BODY), headers: contentType === undefined ? {} : { 'content-type': contentType } });
      assert.equal(res.status, 400, `${path} ${contentType}`);
      assert.deepEqual(await res.json(), { error: { message: "Unsupported Media Type: Only 'application/json' is allowed", type: 'BadRequestError', param: null, code: 400 } });
    }
  }
  // Parameters and case do not matter: the media type does.
  for (const contentType of ['application/json', 'Application/JSON; charset=utf-8']) {
    const res = await fetch(`${sim.url}/v1/completions`, { method: 'POST', body: BODY, headers: { 'content-type': contentType } });
    assert.equal(res.status, 200, contentType);
    await res.text();
  }
});
