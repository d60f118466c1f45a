/** token-producer: the whole request rendered per request, the prefix it caches for the fallback, and the bound on a request's wait. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Endpoint } from '../datastore/endpoint.js';
import { context, endpoint, request } from '../framework/test-fixtures.js';
import { createLogger } from '../../logger.js';
import type { PluginRuntime } from '../plugin-runtime.js';
import type { RenderClient, TokenizeInput } from './render-client.js';
import { registerBuiltins } from './register-builtins.js';
import { TokenProducer, prefixOf, wholeOf } from './token-producer.js';
import { TOKENIZED_PROMPT_KEY, type TokenizedPrompt } from './tokenized-prompt.js';

const EPS = [endpoint('10.0.0.1').build(), endpoint('10.0.0.2').build()];
const SYSTEM = 'You are a careful assistant. '.repeat(20);

/** A runtime whose tokenizer answers what `answer` gives (or hangs until `release`), recording every call. */
function runtime(answer: (input: TokenizeInput) => Uint32Array | Promise<Uint32Array> = () => Uint32Array.of(1, 2, 3)) {
  const calls: { origin: string; input: TokenizeInput }[] = [];
  const warnings: string[] = [];
  const rt: PluginRuntime = {
    log: { ...createLogger('silent'), warn: (m: string) => warnings.push(m) },
    headersFor: () => undefined,
    render: {
      tokenize: async (origin: string, input: TokenizeInput) => {
        calls.push({ origin, input });
        return answer(input);
      },
    } as unknown as RenderClient,
  };
  return { rt, calls, warnings };
}

function chat(user: string, system = SYSTEM) {
  return { model: 'llama', messages: [{ role: 'system', content: system }, { role: 'user', content: user }] };
}

async function produce(p: TokenProducer, body: Record<string, unknown>, wait = true, eps: Endpoint[] = EPS): Promise<TokenizedPrompt | undefined> {
  const ctx = context({ ...request({ model: 'llama' }), body });
  await p.produce(ctx, eps, wait);
  return ctx.state.read<TokenizedPrompt>(TOKENIZED_PROMPT_KEY);
}

describe('prefixOf', () => {
  const cases: { name: string; body: Record<string, unknown>; want: unknown }[] = [
    { name: 'a chat: every message but the last', body: chat('Q1'), want: { kind: 'chat', messages: [{ role: 'system', content: SYSTEM }] } },
    { name: 'a one-message chat: that message', body: { messages: [{ role: 'user', content: 'hi' }] }, want: { kind: 'chat', messages: [{ role: 'user', content: 'hi' }] } },
    { name: 'tools change the rendering and go along', body: { ...chat('Q'), tools: [{ type: 'function' }] }, want: { kind: 'chat', messages: [{ role: 'system', content: SYSTEM }], extra: { tools: [{ type: 'function' }] } } },
    { name: 'a completion: up to its last blank line', body: { prompt: 'system text\n\nQ1' }, want: { kind: 'completion', prompt: 'system text\n\n' } },
    { name: 'a completion without a blank line: all of it', body: { prompt: 'just this' }, want: { kind: 'completion', prompt: 'just this' } },
    { name: 'token ids sent by the client: used as they are', body: { prompt: [5, 6, 7] }, want: 'tokens' },
    { name: 'no prompt', body: { prompt: '' }, want: undefined },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = prefixOf(c.body, 'llama', 1_000_000);
      if (c.want === undefined) return assert.equal(got, undefined);
      if (c.want === 'tokens') return assert.deepEqual(got && 'tokens' in got ? [...got.tokens] : got, [5, 6, 7]);
      assert.ok(got && 'input' in got);
      const { model: _m, ...input } = got.input;
      assert.deepEqual(input, { ...(c.want as object), ...(got.input.kind === 'chat' && !(c.want as { extra?: unknown }).extra ? { extra: {} } : {}) });
    });
  }

  test('questions after the same system prompt share one key; another system prompt does not', () => {
    const k = (b: Record<string, unknown>) => (prefixOf(b, 'llama', 1e6) as { key: string }).key;
    assert.equal(k(chat('Q1')), k(chat('Q2')));
    assert.notEqual(k(chat('Q1')), k(chat('Q1', 'another system prompt')));
    assert.equal(prefixOf(chat('Q'), 'llama', 10), undefined); // over maxPrefixChars: not tokenized
  });
});

describe('wholeOf', () => {
  test('a chat: as sent (a template may read any field), but for its model and streaming', () => {
    const body = { ...chat('Q1'), tools: [{ type: 'function' }], add_generation_prompt: false, reasoning_effort: 'low', max_tokens: 5, stream: true, stream_options: { include_usage: true } };
    const got = wholeOf(body, 'tokenizer-model', 1e6)!;
    assert.deepEqual(got.input, { kind: 'chat', model: 'tokenizer-model', messages: body.messages, extra: { tools: [{ type: 'function' }], add_generation_prompt: false, reasoning_effort: 'low', max_tokens: 5 }, whole: true });
  });

  test('a completion: the whole prompt (the first of a batch), with its add_special_tokens', () => {
    assert.deepEqual(wholeOf({ prompt: 'system text\n\nQ1' }, 'llama', 1e6)!.input, { kind: 'completion', model: 'llama', prompt: 'system text\n\nQ1' });
    assert.deepEqual(wholeOf({ prompt: ['a', 'b'], add_special_tokens: false }, 'llama', 1e6)!.input, { kind: 'completion', model: 'llama', prompt: 'a', addSpecialTokens: false });
  });

  test('the key tells requests apart by their last message; too long or empty: nothing to render', () => {
    const k = (b: Record<string, unknown>) => wholeOf(b, 'llama', 1e6)!.key;
    assert.notEqual(k(chat('Q1')), k(chat('Q2')));
    assert.equal(k(chat('Q1')), k(chat('Q1')));
    assert.notEqual(k(chat('Q1')), k({ ...chat('Q1'), add_generation_prompt: false }));
    assert.equal(wholeOf(chat('Q'), 'llama', 10), undefined);
    assert.equal(wholeOf({ prompt: '' }, 'llama', 1e6), undefined);
  });
});

describe('TokenProducer, whole requests (the default)', () => {
  test('renders every request whole, the last message included; the same request in flight twice shares one call', async () => {
    const t = runtime((input) => Uint32Array.of(input.kind === 'chat' ? input.messages.length : 0, 7));
    const p = new TokenProducer();
    p.bindRuntime(t.rt);
    const [a, b] = await Promise.all([produce(p, chat('Q1')), produce(p, chat('Q1'))]);
    assert.deepEqual([...a!.tokens], [2, 7]);
    assert.equal(a, b);
    assert.deepEqual([...(await produce(p, chat('Q2')))!.tokens], [2, 7]);
    assert.equal(t.calls.length, 2, 'one render per distinct request');
    assert.ok(t.calls.every((c) => c.input.kind === 'chat' && c.input.whole === true && c.input.messages.length === 2));
    assert.equal(p.calls, 2);
    assert.equal(p.cache.size, 1, 'one entry for the prefix (its last render, to reuse its keys), none per question');
    assert.equal(p.cache.get('llama', (prefixOf(chat('Q1'), 'llama', 1e6) as { key: string }).key), undefined, 'the prefix itself is not tokenized');
  });

  test('a render later than produceTimeout: the request is scored on the cached prefix, tokenized once', async () => {
    const pending: ((v: Uint32Array) => void)[] = [];
    const t = runtime((input) => (input.kind === 'chat' && input.whole === true ? new Promise<Uint32Array>((r) => pending.push(r)) : Uint32Array.of(4, 4)));
    const p = new TokenProducer('tp', { produceTimeoutMs: 20 });
    p.bindRuntime(t.rt);
    // The first late request finds no prefix yet (approximate view) and asks for it; the next ones use it.
    assert.equal(await produce(p, chat('Q1')), undefined);
    assert.deepEqual([...(await produce(p, chat('Q2')))!.tokens], [4, 4]);
    assert.deepEqual([...(await produce(p, chat('Q3')))!.tokens], [4, 4]);
    assert.equal(t.calls.filter((c) => c.input.kind === 'chat' && c.input.whole !== true).length, 1, 'the prefix once');
    for (const r of pending) r(Uint32Array.of(1));
  });

  test('a failing render falls back to the prefix, and is logged once', async () => {
    const t = runtime((input) => {
      if (input.kind === 'chat' && input.whole === true) throw new Error('boom');
      return Uint32Array.of(5);
    });
    const p = new TokenProducer();
    p.bindRuntime(t.rt);
    await produce(p, chat('Q1'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual([...(await produce(p, chat('Q2')))!.tokens], [5]);
    assert.equal(p.failures, 2);
    assert.equal(t.warnings.length, 1);
  });

  test('a caller that does not wait never asks for a render it would not use', async () => {
    const t = runtime();
    const p = new TokenProducer();
    p.bindRuntime(t.rt);
    await produce(p, chat('Q1'), false);
    assert.ok(t.calls.every((c) => c.input.kind === 'chat' && c.input.whole !== true));
  });

  test('a prompt over maxPrefixChars is not rendered whole; its prefix may still be', async () => {
    const t = runtime();
    const p = new TokenProducer('tp', { maxPrefixChars: SYSTEM.length * 2 });
    p.bindRuntime(t.rt);
    await produce(p, chat('x'.repeat(SYSTEM.length * 2)));
    assert.deepEqual(t.calls.map((c) => c.input.kind === 'chat' && c.input.whole === true), [false]);
  });
});

describe('TokenProducer, the prefix alone (wholePrompt: false)', () => {
  test('tokenizes a system prompt once for every question asked after it', async () => {
    const t = runtime();
    const p = new TokenProducer('tp', { wholePrompt: false });
    p.bindRuntime(t.rt);
    assert.deepEqual([...(await produce(p, chat('Q1')))!.tokens], [1, 2, 3]);
    assert.deepEqual([...(await produce(p, chat('Q2')))!.tokens], [1, 2, 3]);
    assert.equal(t.calls.length, 1);
    assert.equal(t.calls[0]!.origin, EPS[0]!.origin);
    assert.equal(p.cache.hits, 1);
  });

  test('a burst of requests with a new prefix shares one tokenizer call', async () => {
    const t = runtime();
    const p = new TokenProducer('tp', { wholePrompt: false });
    p.bindRuntime(t.rt);
    const got = await Promise.all([produce(p, chat('a')), produce(p, chat('b')), produce(p, chat('c'))]);
    assert.equal(t.calls.length, 1);
    assert.ok(got.every((g) => g !== undefined));
  });

  test('a request waits at most produceTimeout; the late answer still serves the next request', async () => {
    let release!: (v: Uint32Array) => void;
    const t = runtime(() => new Promise<Uint32Array>((r) => (release = r)));
    const p = new TokenProducer('tp', { produceTimeoutMs: 20, wholePrompt: false });
    p.bindRuntime(t.rt);
    assert.equal(await produce(p, chat('Q1')), undefined);
    release(Uint32Array.of(9, 9));
    await new Promise((r) => setImmediate(r));
    // Now cached: answered synchronously, even by a caller that does not wait (ext_proc).
    assert.deepEqual([...(await produce(p, chat('Q2'), false))!.tokens], [9, 9]);
    assert.equal(t.calls.length, 1);
  });

  test('a caller that does not wait starts the call in the background and goes on without tokens', async () => {
    const t = runtime();
    const p = new TokenProducer();
    p.bindRuntime(t.rt);
    assert.equal(await produce(p, chat('Q1'), false), undefined);
    await new Promise((r) => setImmediate(r));
    assert.ok(await produce(p, chat('Q2'), false));
    assert.equal(t.calls.length, 1);
  });

  test('a failing tokenizer is logged once, caches nothing, and is tried again', async () => {
    const t = runtime(() => {
      throw new Error('boom');
    });
    const p = new TokenProducer('tp', { wholePrompt: false });
    p.bindRuntime(t.rt);
    assert.equal(await produce(p, chat('Q1')), undefined);
    assert.equal(await produce(p, chat('Q2')), undefined);
    assert.equal(t.calls.length, 2);
    assert.equal(p.failures, 2);
    assert.equal(t.warnings.length, 1);
  });

  test('asks vllm.url when set, and nobody without a runtime (explain, validate)', async () => {
    const unbound = new TokenProducer();
    assert.equal(await produce(unbound, chat('Q')), undefined);
    const t = runtime();
    const p = new TokenProducer('tp', { url: 'http://render:8000/' });
    p.bindRuntime(t.rt);
    await produce(p, chat('Q'));
    assert.equal(t.calls[0]!.origin, 'http://render:8000');
  });

  test('a salted request keeps the shared tokens but its own keys', async () => {
    const t = runtime();
    const p = new TokenProducer('tp', { wholePrompt: false });
    p.bindRuntime(t.rt);
    const plain = await produce(p, chat('Q'));
    const salted = await produce(p, { ...chat('Q'), cache_salt: 'tenant-a' });
    assert.equal(salted!.tokens, plain!.tokens);
    assert.equal(salted!.cacheSalt, 'tenant-a');
  });

  test('bounds its cache by tokens held', async () => {
    const t = runtime(() => new Uint32Array(60));
    const p = new TokenProducer('tp', { cacheTokens: 100, wholePrompt: false });
    p.bindRuntime(t.rt);
    await produce(p, chat('Q', 'one'));
    await produce(p, chat('Q', 'two'));
    assert.equal(p.cache.size, 1);
    assert.ok(p.cache.tokens <= 100);
  });
});

test('vllm.url without modelName loads with a warning (llm-d refuses it): adapters are rendered under their own name', () => {
  const warnings: string[] = [];
  registerBuiltins().create('token-producer', 'tp', { vllm: { url: 'http://render:8000' } }, { warn: (w) => warnings.push(w) });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /parameters\.modelName is not set with vllm\.url/);
  const none: string[] = [];
  registerBuiltins().create('token-producer', 'tp', { modelName: 'm', vllm: { url: 'http://render:8000' } }, { warn: (w) => none.push(w) });
  registerBuiltins().create('token-producer', 'tp', {}, { warn: (w) => none.push(w) });
  assert.deepEqual(none, [], 'a pool pod serves the request\'s model: nothing to say');
});
