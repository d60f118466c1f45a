import { test } from 'node:test';
import assert from 'node:assert/strict';
import { askForStreamUsage } from './stream-usage.js';

const CHAT = '/v1/chat/completions';

/** JSON.parse of a body's text, past a byte order mark opening it (which the gateway's parser skips, as vLLM does). */
const parsed = (text: string): Record<string, unknown> => JSON.parse(text.replace(/^\ufeff/, '')) as Record<string, unknown>;

function ask(url: string, text: string): { asked: boolean; body: string } {
  const req = { url, body: Buffer.from(text) as Buffer | undefined };
  const asked = askForStreamUsage(req, parsed(text));
  return { asked, body: req.body!.toString() };
}

test('a stream that did not ask for usage asks for it; what the client asked for otherwise stays', () => {
  const cases: { name: string; url?: string; body: string; asked: boolean; options?: unknown }[] = [
    { name: 'no stream_options', body: '{"model":"m","stream":true,"messages":[]}', asked: true, options: { include_usage: true } },
    { name: 'leading space, pretty-printed', body: '  {\n  "model": "m",\n  "stream": true\n}', asked: true, options: { include_usage: true } },
    { name: 'a UTF-8 byte order mark first', body: '\ufeff{"model":"m","stream":true}', asked: true, options: { include_usage: true } },
    { name: 'a byte order mark, then stream_options', body: '\ufeff{"model":"m","stream":true,"stream_options":{"include_usage":false}}', asked: true, options: { include_usage: true } },
    { name: 'completions, with a query', url: '/v1/completions?x=1', body: '{"model":"m","stream":true,"prompt":"p"}', asked: true, options: { include_usage: true } },
    { name: 'include_usage false', body: '{"model":"m","stream":true,"stream_options":{"include_usage":false}}', asked: true, options: { include_usage: true } },
    { name: 'stream_options null', body: '{"model":"m","stream":true,"stream_options":null}', asked: true, options: { include_usage: true } },
    { name: 'empty stream_options', body: '{"model":"m","stream":true,"stream_options":{}}', asked: true, options: { include_usage: true } },
    {
      name: 'continuous stats without include_usage stay off',
      body: '{"stream_options":{"continuous_usage_stats":true},"model":"m","stream":true}',
      asked: true,
      options: { include_usage: true, continuous_usage_stats: false },
    },
    { name: 'the client asked for usage', body: '{"model":"m","stream":true,"stream_options":{"include_usage":true}}', asked: false, options: { include_usage: true } },
    { name: 'stream_options not an object', body: '{"model":"m","stream":true,"stream_options":"yes"}', asked: false, options: 'yes' },
    { name: 'the Responses API', url: '/v1/responses', body: '{"model":"m","stream":true,"input":"x"}', asked: false },
    { name: 'embeddings', url: '/v1/embeddings', body: '{"model":"m","stream":true,"input":"x"}', asked: false },
  ];
  for (const c of cases) {
    const { asked, body } = ask(c.url ?? CHAT, c.body);
    assert.equal(asked, c.asked, c.name);
    if (!c.asked) assert.equal(body, c.body, `${c.name}: body unchanged`);
    const json = parsed(body);
    assert.deepEqual(json.stream_options, c.options, c.name);
    const { stream_options: _a, ...rest } = json;
    const { stream_options: _b, ...given } = parsed(c.body);
    assert.deepEqual(rest, given, `${c.name}: every other field as sent`);
  }
});

test('the bytes around stream_options are kept: a long prompt with quotes and escapes, a repeated key, an escaped name', () => {
  const prompt = `say "hi" \\ then {[\\"stream_options\\"]} ${'x'.repeat(100_000)}`;
  const text = `{"model":"m","messages":[{"role":"user","content":${JSON.stringify(prompt)}}],"stream_options":{"include_usage":true},"stream":true,"stream\\u005foptions":{"include_usage":false},"n":1}`;
  const { asked, body } = ask(CHAT, text);
  // JSON.parse keeps the last of a repeated key: that is the one the client meant and the one changed.
  assert.equal(asked, true);
  const json = JSON.parse(body) as { messages: { content: string }[]; stream_options: unknown; n: number };
  assert.equal(json.messages[0]!.content, prompt);
  assert.deepEqual(json.stream_options, { include_usage: true });
  assert.equal(json.n, 1);
  assert.ok(body.startsWith(text.slice(0, text.lastIndexOf('"stream\\u005foptions"'))), 'bytes before the member unchanged');
});

test('no body or no parsed JSON: nothing to ask', () => {
  const req = { url: CHAT, body: undefined };
  assert.equal(askForStreamUsage(req, { stream: true }), false);
  const other = { url: CHAT, body: Buffer.from('{}') };
  assert.equal(askForStreamUsage(other, undefined), false);
});
