/** RenderClient: what it sends to render and /tokenize, for a whole request and for a prefix. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startSimulator } from '../../sim/simulator.js';
import { RenderClient, TokenizeError } from './render-client.js';

const seen: { path: string; body: Record<string, unknown> }[] = [];
let renderMissing = false;
let server: Server;
let origin: string;
const client = new RenderClient();

before(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', body: JSON.parse(text) as Record<string, unknown> });
      if (renderMissing && req.url === '/v1/chat/completions/render') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.url === '/tokenize' ? { count: 2, tokens: [7, 8] } : { token_ids: [1, 2, 3] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.135.3', r));
  origin = `http://127.0.135.3:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await client.close();
  await new Promise((r) => server.close(r));
});

const messages = [{ role: 'system', content: 'S' }, { role: 'user', content: 'Q' }];
const opts = { timeoutMs: 2000, useRender: true };

test('a whole chat is rendered as sent: the server decides its generation prompt', async () => {
  seen.length = 0;
  const ids = await client.tokenize(origin, { kind: 'chat', model: 'm', messages, extra: { reasoning_effort: 'low', max_tokens: 5 }, whole: true }, opts);
  assert.deepEqual([...ids], [1, 2, 3]);
  assert.deepEqual(seen, [{ path: '/v1/chat/completions/render', body: { reasoning_effort: 'low', max_tokens: 5, model: 'm', messages } }]);
});

test('a prefix is rendered without the assistant\'s turn opening', async () => {
  seen.length = 0;
  await client.tokenize(origin, { kind: 'chat', model: 'm', messages: messages.slice(0, 1), extra: { tools: [] } }, opts);
  assert.deepEqual(seen[0]!.body, { tools: [], model: 'm', messages: messages.slice(0, 1), add_generation_prompt: false, continue_final_message: false });
});

test('without render, /tokenize gets only the fields it reads', async () => {
  seen.length = 0;
  renderMissing = true;
  let missing = 0;
  try {
    const ids = await client.tokenize(origin, { kind: 'chat', model: 'm', messages, extra: { reasoning_effort: 'low', max_tokens: 5, add_generation_prompt: true, tools: [] }, whole: true }, { ...opts, renderMissing: () => missing++ });
    assert.deepEqual([...ids], [7, 8]);
  } finally {
    renderMissing = false;
  }
  assert.equal(missing, 1);
  assert.deepEqual(seen.map((s) => s.path), ['/v1/chat/completions/render', '/tokenize']);
  assert.deepEqual(seen[1]!.body, { model: 'm', messages, tools: [], add_generation_prompt: true });
});

test('a completion goes to /tokenize with its add_special_tokens (vLLM\'s default true)', async () => {
  seen.length = 0;
  await client.tokenize(origin, { kind: 'completion', model: 'm', prompt: 'p' }, opts);
  await client.tokenize(origin, { kind: 'completion', model: 'm', prompt: 'p', addSpecialTokens: false }, opts);
  assert.deepEqual(seen.map((s) => s.body), [{ model: 'm', prompt: 'p', add_special_tokens: true }, { model: 'm', prompt: 'p', add_special_tokens: false }]);
});

test('a render that answers "the model does not exist" (404 from vLLM itself) is a failure, not a server without render', async (t) => {
  const sim = await startSimulator({ model: 'm', host: '127.0.160.41', port: 0 });
  t.after(() => sim.close());
  const simOrigin = `http://${sim.host}:${sim.port}`;
  let missing = 0;
  await assert.rejects(
    client.tokenize(simOrigin, { kind: 'chat', model: 'nope', messages, whole: true }, { ...opts, renderMissing: () => missing++ }),
    (e: unknown) => e instanceof TokenizeError && !e.notFound && /answered 404: .*does not exist/.test(e.message),
  );
  assert.equal(missing, 0, 'render is still there: no switch to /tokenize');
  // A path the server lacks (the framework's 404, no error body) still is.
  seen.length = 0;
  renderMissing = true;
  try {
    await client.tokenize(origin, { kind: 'chat', model: 'm', messages, whole: true }, { ...opts, renderMissing: () => missing++ });
  } finally {
    renderMissing = false;
  }
  assert.equal(missing, 1);
});
