/** Helpers for end-to-end tests of precise prefix routing: the EndpointPickerConfig, what the gateway's index holds. */
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import type { KvCacheView } from '../../src/kvevents/kv-cache-view.js';
import OpenAI from 'openai';
import type { RunningSimulator } from '../../src/sim/simulator.js';
import { Tokenizer } from '../../src/sim/tokenizer.js';

/** llm-d's split precise pipeline, scoring on the prefix alone (so the pick shows what the index says). */
export function preciseEppConfig(o: { socketPort: number; replaySocketPort?: number; speculative?: boolean }): string {
  return `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: token-producer
  parameters:
    produceTimeout: 2s
- type: precise-prefix-cache-producer
  parameters:
    tokenProcessorConfig:
      blockSize: 16
    kvEventsConfig:
      podDiscoveryConfig:
        socketPort: ${o.socketPort}${o.replaySocketPort ? `\n        replaySocketPort: ${o.replaySocketPort}` : ''}
    speculativeIndexing: ${o.speculative === true}
- type: prefix-cache-scorer
  parameters:
    prefixMatchInfoProducerName: precise-prefix-cache-producer
- type: max-score-picker
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: prefix-cache-scorer
`;
}

/** The gateway's one KV-cache view (one setting in these tests). */
export function viewOf(gw: RunningGateway): KvCacheView | undefined {
  return gw.gateway.plugins.kvEvents.views().next().value;
}

const tokenizer = new Tokenizer();

/** Leading blocks of `text` (as the simulator tokenizes it) the gateway believes `address` holds. */
export function heldBlocks(gw: RunningGateway, address: string, text: string, model: string): number {
  const view = viewOf(gw);
  if (!view) return 0;
  const r = view.lookup(view.hasher.keys(tokenizer.encode(text), model));
  for (let i = 0; i < r.size; i++) if (view.addressOf(r.pods[i]!) === address) return r.matched[i]!;
  return 0;
}

/** The simulator's token ids of `text`. */
export function tokensOf(text: string): number[] {
  return tokenizer.encode(text);
}

/** A system prompt of `blocks` full 16-token blocks (64 characters each), distinct per `tag`. */
export function systemPrompt(tag: string, blocks: number): string {
  const unit = `${tag} policy: answer briefly, cite sources, never guess. `;
  return unit.repeat(Math.ceil((blocks * 64) / unit.length)).slice(0, blocks * 64);
}

/** A chat of `model` with `system` first; the question varies so no two requests are the same prompt. */
export function chatBody(model: string, system: string, question: string) {
  return { model, max_tokens: 2, messages: [{ role: 'system' as const, content: system }, { role: 'user' as const, content: question }] };
}

/** Sends a chat straight to a pod, behind the gateway's back: only the pod's KV events can tell the gateway. */
export async function direct(sim: RunningSimulator, model: string, system: string, question: string): Promise<void> {
  const c = new OpenAI({ baseURL: `http://${sim.host}:${sim.port}/v1`, apiKey: 'unused', maxRetries: 0 });
  await c.chat.completions.create(chatBody(model, system, question));
}
