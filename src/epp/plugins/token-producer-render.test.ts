/** token-producer against the simulator's vLLM endpoints: the ids it produces are the render of the whole request. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSimulator, type RunningSimulator } from '../../sim/simulator.js';
import { BlockKeyHasher } from '../../kvevents/block-key.js';
import { createLogger } from '../../logger.js';
import { context, request } from '../framework/test-fixtures.js';
import { RenderClient } from './render-client.js';
import { TokenProducer } from './token-producer.js';
import { TOKENIZED_PROMPT_KEY, type TokenizedPrompt } from './tokenized-prompt.js';

const MODEL = 'base-model';
/** 4n + 3 characters: the simulator's 4-character tokens straddle the end of the system prompt. */
const SYSTEM = `${'You answer questions about the billing policy. '.repeat(12)}Now:`.slice(0, 4 * 140 + 3);

let sim: RunningSimulator;
let render: RenderClient;

before(async () => {
  sim = await startSimulator({ model: MODEL, host: '127.0.135.2', port: 0 });
  render = new RenderClient();
});

after(async () => {
  await render?.close();
  await sim?.close();
});

async function post(path: string, body: unknown): Promise<Record<string, unknown> | Record<string, unknown>[]> {
  const res = await fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

/** The ids the engine hashes for `body`: vLLM's render of the request as the client sent it. */
async function engineIds(body: Record<string, unknown>): Promise<number[]> {
  if (body.messages) return (await post('/v1/chat/completions/render', body) as { token_ids: number[] }).token_ids;
  return (await post('/v1/completions/render', body) as { token_ids: number[] }[])[0]!.token_ids;
}

function producer(): TokenProducer {
  const p = new TokenProducer('tp', { url: sim.url, produceTimeoutMs: 5000 });
  p.bindRuntime({ log: createLogger('silent'), render, headersFor: () => undefined });
  return p;
}

const hasher = new BlockKeyHasher({ blockSize: 16, hashSeed: '' });

/** The ids produced for `body`, checked to key as the same ids hashed afresh (the keys may reuse an earlier render's). */
async function produced(p: TokenProducer, body: Record<string, unknown>, wait = true): Promise<number[] | undefined> {
  const ctx = context({ ...request({ model: MODEL }), body });
  await p.produce(ctx, [], wait);
  const tp = ctx.state.read<TokenizedPrompt>(TOKENIZED_PROMPT_KEY);
  if (tp) assert.deepEqual([...tp.keys(hasher, MODEL).keys], [...hasher.keys(tp.tokens, MODEL).keys]);
  return tp ? [...tp.tokens] : undefined;
}

const chat = (q: string) => ({ model: MODEL, max_tokens: 4, messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: q }] });
const completion = (q: string) => ({ model: MODEL, max_tokens: 4, prompt: `${SYSTEM}\n\n${q}` });

describe('token-producer ids equal the engine\'s render of the whole request', () => {
  for (const [kind, body] of [['chat', chat], ['completion', completion]] as const) {
    test(`${kind}: without a cached prefix, and with one`, async () => {
      const p = producer();
      const first = body('What does a refund cost?');
      assert.deepEqual(await produced(p, first), await engineIds(first));
      assert.equal(p.cache.size, 1, 'the last render after this prefix');
      // The prefix cached (a caller that does not wait tokenizes it), then another question after it.
      await produced(p, body('warm-up'), false);
      for (let i = 0; i < 50 && p.cache.size === 1; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(p.cache.size, 2);
      const second = body('And a late payment, how much is that one?');
      const want = await engineIds(second);
      assert.deepEqual(await produced(p, second), want);
      assert.equal(want.length, Math.ceil(((kind === 'chat' ? 0 : 2) + SYSTEM.length + 'And a late payment, how much is that one?'.length) / 4));
    });
  }

  test('why not the cached prefix plus the rest tokenized alone: the token at the seam differs', async () => {
    const q = 'What does a refund cost?';
    const prefix = (await post('/tokenize', { model: MODEL, prompt: SYSTEM }) as { tokens: number[] }).tokens;
    const rest = (await post('/tokenize', { model: MODEL, prompt: q }) as { tokens: number[] }).tokens;
    assert.notDeepEqual([...prefix, ...rest], await engineIds(chat(q)));
  });
});
