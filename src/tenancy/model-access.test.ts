import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelAccess } from './model-access.js';

test('model access: exact names and globs', () => {
  const cases: { patterns: string[]; model: string; allowed: boolean }[] = [
    { patterns: ['llama'], model: 'llama', allowed: true },
    { patterns: ['llama'], model: 'llama-2', allowed: false },
    { patterns: ['llama*'], model: 'llama-2', allowed: true },
    { patterns: ['meta/llama-?b'], model: 'meta/llama-8b', allowed: true },
    { patterns: ['meta/llama-?b'], model: 'meta/llama-70b', allowed: false },
    { patterns: ['a.b'], model: 'axb', allowed: false },
    { patterns: ['*'], model: 'anything', allowed: true },
    { patterns: [], model: 'x', allowed: false },
  ];
  for (const c of cases) assert.equal(new ModelAccess(c.patterns).allows(c.model), c.allowed, JSON.stringify(c));
});
