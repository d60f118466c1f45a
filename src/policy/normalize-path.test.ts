import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizePath } from './normalize-path.js';

test('normalizePath undoes every spelling that could reach the same path', () => {
  const cases: [string, string][] = [
    ['/v1/chat/completions', '/v1/chat/completions'],
    ['/V1/Load_LoRA_Adapter', '/v1/load_lora_adapter'],
    ['/v1/../sleep', '/sleep'],
    ['/v1/./../../../sleep', '/sleep'],
    ['//v1//unload_lora_adapter', '/v1/unload_lora_adapter'],
    ['/v1/%2e%2e/sleep', '/sleep'],
    ['/v1/%2E%2E/%73leep', '/sleep'],
    ['/v1/%252e%252e/sleep', '/sleep'],
    ['/v1%2f..%2fsleep', '/sleep'],
    ['/v1\\..\\sleep', '/sleep'],
    ['/sleep/', '/sleep'],
    ['/pause/step', '/pause/step'],
    ['/', '/'],
    ['', '/'],
    ['/v1/models/%E0%A4%A', '/v1/models/\u00e0\u00a4%a'],
    ['http://evil.example/collective_rpc', '/collective_rpc'],
    ['/v1/models/google%2Fgemma', '/v1/models/google/gemma'],
  ];
  for (const [raw, want] of cases) assert.equal(normalizePath(raw), want, raw);
});
