/**
 * A stream the pod cuts after its headers went out: the gateway tells the client in-band, as vLLM reports its own
 * mid-stream errors (`data: {"error": ...}`), before it cuts the connection, so the openai client raises an
 * APIError naming the endpoint instead of a bare "terminated". A whole (JSON) answer is only cut. The pod is a
 * scripted one (test/helpers/scripted-pod.ts) that breaks off on purpose, on 127.0.173.40.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import type { TempConfig } from '../helpers/fleet.js';
import { startGatewayOver, startScriptedPod, type ScriptedPod, type Script } from '../helpers/scripted-pod.js';

const POD = '127.0.173.40';
const HOST = '127.0.173.41';
const MODEL = 'cut/model';
const EVENT = 'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n';

let pod: ScriptedPod;
let cfg: TempConfig;
let gw: RunningGateway;

before(async () => {
  // Answers a streamed chat request with one event (whole, or cut part way when the prompt says so) and a whole one
  // with half a JSON body, then drops the connection.
  const breakOff: Script = (_req, res, body) => {
    if (body.includes('"stream":true')) {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      res.write(body.includes('half') ? EVENT.slice(0, 40) : EVENT);
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' });
      res.write('{"id":"c","object":"chat.completion",');
    }
    setTimeout(() => res.socket?.destroy(), 30);
  };
  // The Anthropic Messages API path breaks off the same way: only the gateway's in-band event differs there.
  pod = await startScriptedPod({ host: POD, model: MODEL, paths: { '/v1/chat/completions': breakOff, '/v1/messages': breakOff } });
  ({ gw, cfg } = await startGatewayOver('cut', [pod], { host: HOST, adminHost: HOST }));
});

after(async () => {
  await gw?.close();
  await pod?.close();
  await cfg?.remove();
});

const chat = (content: string, stream: boolean): string => JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], stream });

/** Every byte the gateway sent before the connection ended, and whether it ended cut (an error) or whole. */
async function received(body: string, path = '/v1/chat/completions'): Promise<{ text: string; cut: boolean }> {
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(res.status, 200, 'the headers went out before the cut');
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    try {
      const { done, value } = await reader.read();
      if (done) return { text, cut: false };
      text += decoder.decode(value, { stream: true });
    } catch {
      return { text, cut: true };
    }
  }
}

test('the openai client raises an APIError naming the endpoint, after the chunks that came', async () => {
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], stream: true });
  const seen: string[] = [];
  await assert.rejects(
    async () => {
      for await (const c of stream) seen.push(c.choices[0]?.delta.content ?? '');
    },
    (e: unknown) => {
      assert.ok(e instanceof OpenAI.APIError, String(e));
      assert.equal(e.code, 'upstream_unavailable');
      assert.equal(e.type, 'server_error');
      assert.match(e.message, new RegExp(`^the stream from endpoint ${POD.replaceAll('.', '\\.')}:\\d+ \\(pod default/cut-0\\) broke off before it finished \\(\\w+\\); the answer so far is incomplete`));
      return true;
    },
  );
  assert.deepEqual(seen, ['Hi']);
});

test('on the wire: the error event, no [DONE], and the connection cut; an event cut part way is ended first', async () => {
  const whole = await received(chat('hello', true));
  assert.ok(whole.cut, 'the connection is still cut: a client that ignores the event sees the stream fail');
  assert.ok(whole.text.startsWith(EVENT), whole.text);
  const [, after] = whole.text.split(EVENT);
  assert.match(after!, /^\n\ndata: \{"error":\{"message":"the stream from endpoint [^"]+","type":"server_error","param":null,"code":"upstream_unavailable"\}\}\n\n$/);
  assert.ok(!whole.text.includes('[DONE]'));

  const half = await received(chat('half', true));
  assert.ok(half.cut);
  assert.ok(half.text.startsWith(`${EVENT.slice(0, 40)}\n\ndata: {"error":`), half.text);
});

test("under /v1/messages the event is the Anthropic Messages API's, as vLLM sends there: event: error, Anthropic's error body", async () => {
  const r = await received(chat('hello', true), '/v1/messages');
  assert.ok(r.cut);
  const [, after] = r.text.split(EVENT);
  assert.match(after!, /^\n\nevent: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"the stream from endpoint [^"]+"\}\}\n\n$/);
});

test('a whole (JSON) answer is cut as before: truncated, nothing added', async () => {
  const json = await received(chat('hello', false));
  assert.ok(json.cut);
  assert.equal(json.text, '{"id":"c","object":"chat.completion",');
});
