/** closestName: misspelt model names -> the served name meant, or none when nothing is close. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closestName } from './closest-name.js';

const SERVED = ['google/gemma-2b-it', 'gemma-sql-lora', 'gemma-chat-lora', 'microsoft/Phi-3-mini-4k-instruct'];

test('closestName', () => {
  const cases: Array<[string, string | undefined]> = [
    ['google/gemma-2b', 'google/gemma-2b-it'],
    ['gemma-sq-lora', 'gemma-sql-lora'],
    ['Microsoft/phi-3-mini-4k-instruct', 'microsoft/Phi-3-mini-4k-instruct'],
    ['llama-3', undefined],
    ['qwen/qwen2.5-7b', undefined],
  ];
  for (const [name, want] of cases) assert.equal(closestName(name, SERVED), want, name);
});
