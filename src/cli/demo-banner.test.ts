/** The demo's banner: its commands name models of the fleet that runs, whatever the configuration. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoBanner, type BannerPod } from './demo-banner.js';

/** The `"model"` of every JSON body the banner's commands send. */
const modelsTried = (banner: string): string[] => [...banner.matchAll(/'(\{.*?\})'/g)].map((m) => (JSON.parse(m[1]!) as { model: string }).model);

test("the default example's fleet: an adapter, the other pool's base model and one of its adapters", () => {
  const pods: BannerPod[] = [
    { podName: 'ms-gemma-decode-0', url: 'http://127.0.0.2:8000', model: 'google/gemma-2b-it', loras: ['gemma-sql-lora', 'gemma-chat-lora'] },
    { podName: 'ms-phi3-decode-0', url: 'http://127.0.0.4:8000', model: 'microsoft/Phi-3-mini-4k-instruct', loras: ['phi3-code-lora', 'phi3-summary-lora'] },
  ];
  const banner = demoBanner('http://127.0.0.1:8080', 'http://127.0.0.1:9090', 'examples/seed-demo', pods);
  assert.deepEqual(modelsTried(banner), ['gemma-sql-lora', 'microsoft/Phi-3-mini-4k-instruct', 'no-such-model', 'phi3-code-lora']);
  assert.match(banner, /^ {2}ms-gemma-decode-0 {4}http:\/\/127\.0\.0\.2:8000 {2}google\/gemma-2b-it \+ gemma-sql-lora, gemma-chat-lora$/m);
  assert.match(banner, /npx infergate explain -f examples\/seed-demo /);
});

test('another configuration: the commands name its models (they named the default example\'s before), and a pod without adapters shows none', () => {
  const banner = demoBanner('http://127.0.0.1:8080', undefined, 'my-fleet', [{ podName: 'qwen-0', url: 'http://127.0.0.9:8000', model: 'Qwen/Qwen3-8B', loras: [] }]);
  assert.deepEqual(modelsTried(banner), ['Qwen/Qwen3-8B', 'Qwen/Qwen3-8B', 'no-such-model', 'Qwen/Qwen3-8B']);
  assert.match(banner, /^ {2}qwen-0 {15}http:\/\/127\.0\.0\.9:8000 {2}Qwen\/Qwen3-8B$/m);
  assert.doesNotMatch(banner, /Dashboard/);
});
