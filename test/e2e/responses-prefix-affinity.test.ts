/**
 * Prefix-cache routing for the Responses API: a `POST /v1/responses` is scored on its `instructions` and `input`,
 * as GIE's approximate prefix scorer reads its input, so a client that sends a conversation's whole input again
 * (no `previous_response_id`) reaches the pod that prefilled its start. Two simulated pods on 127.0.113.2-3 in
 * one pool, prefix-cache-scorer alone deciding; the gateway on 127.0.0.1, port 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPrefixPair } from '../helpers/prefix-pair.js';

const MODEL = 'Qwen/Qwen3-8B';

test("a Responses API conversation sent again whole reaches the pod that holds its prefix, instructions and input", async () => {
  const pair = await startPrefixPair(113, MODEL);
  try {
    const served = (body: object): Promise<string> => pair.served('/v1/responses', { max_output_tokens: 2, store: false, ...body });
    const instructions = 'You are a careful assistant for one customer. '.repeat(20);
    const moved: string[] = [];
    // Eight conversations: a coin toss each for the first turn, so without the prefix one would move at random.
    for (let i = 0; i < 8; i++) {
      const first = [{ role: 'user', content: `conversation ${i}: ${'tell me about queues and caches. '.repeat(12)}` }];
      const firstPod = await served({ instructions, input: first });
      const next = [...first, { role: 'assistant', content: 'Queues wait.' }, { role: 'user', content: 'and then?' }];
      const nextPod = await served({ instructions, input: next });
      if (nextPod !== firstPod) moved.push(`conversation ${i}: ${firstPod} then ${nextPod}`);
      // A plain string input holds its prefix too.
      const text = `story ${i}: ${'once upon a time in a data centre '.repeat(12)}`;
      const textPod = await served({ input: text });
      if ((await served({ input: `${text} and the end.` })) !== textPod) moved.push(`string input ${i}`);
    }
    assert.deepEqual(moved, []);
  } finally {
    await pair.close();
  }
});
