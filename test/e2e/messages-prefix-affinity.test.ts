/**
 * Prefix-cache routing for the Anthropic Messages API: a `POST /v1/messages` is scored on its `system` prompt
 * before its messages, as vLLM renders it, so the conversations of a client that sends one long system prompt
 * (Claude Code) reach the pod that already prefilled it. Two simulated pods on 127.0.118.2-3 in one pool,
 * prefix-cache-scorer alone deciding; the gateway on 127.0.0.1, port 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPrefixPair } from '../helpers/prefix-pair.js';

const MODEL = 'Qwen/Qwen3-8B';

test('conversations that share a long system prompt reach the pod that holds it', async () => {
  const pair = await startPrefixPair(118, MODEL);
  try {
    const served = (body: object): Promise<string> => pair.served('/v1/messages', { max_tokens: 2, ...body });
    const moved: string[] = [];
    // Eight clients, each a system prompt of its own and three conversations: without the system prompt their
    // first messages share nothing, and each conversation would be a coin toss.
    for (let i = 0; i < 8; i++) {
      const system = [{ type: 'text', text: `client ${i}: you are a coding agent with these tools and rules. ${'Follow the rules. '.repeat(30)}` }];
      const pods = new Set<string>();
      for (const topic of ['queues', 'caches', 'routes']) pods.add(await served({ system, messages: [{ role: 'user', content: `tell me about ${topic}` }] }));
      if (pods.size > 1) moved.push(`client ${i}: ${[...pods].join(', ')}`);
    }
    assert.deepEqual(moved, []);
  } finally {
    await pair.close();
  }
});
