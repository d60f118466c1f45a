/** Where a pool's upstream API key comes from: its annotations, else the flag or the environment. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inferencePool } from '../api/test-fixtures.js';
import { defaultApiKeySource, describeApiKeySource, poolApiKeySource, type ApiKeySource } from './api-key-source.js';

const FLAG: ApiKeySource = { kind: 'file', path: '/etc/infergate/key', origin: '--upstream-api-key-file' };

const CASES: { name: string; annotations: Record<string, string>; source?: string; issue?: RegExp; warning?: RegExp }[] = [
  { name: 'none: the flag', annotations: {}, source: 'file /etc/infergate/key (--upstream-api-key-file)' },
  { name: 'a file', annotations: { 'infergate.io/upstream-api-key-file': '/var/run/secrets/vllm/api-key' }, source: 'file /var/run/secrets/vllm/api-key (annotation infergate.io/upstream-api-key-file)' },
  { name: 'a Secret', annotations: { 'infergate.io/upstream-api-key-secret': 'vllm-api-key' }, source: 'Secret llm/vllm-api-key (annotation infergate.io/upstream-api-key-secret)' },
  { name: 'a Secret and its key', annotations: { 'infergate.io/upstream-api-key-secret': 'vllm-api-key/token' }, source: 'Secret llm/vllm-api-key key token (annotation infergate.io/upstream-api-key-secret)' },
  { name: 'a relative path', annotations: { 'infergate.io/upstream-api-key-file': 'keys/gemma' }, issue: /must be an absolute path/, source: 'file /etc/infergate/key (--upstream-api-key-file)' },
  { name: 'a Secret name that is not one', annotations: { 'infergate.io/upstream-api-key-secret': 'Vllm_Key/a/b' }, issue: /must be a Secret name in the pool's namespace/ },
  { name: 'both', annotations: { 'infergate.io/upstream-api-key-file': '/k', 'infergate.io/upstream-api-key-secret': 's' }, issue: /keep one of the two/ },
  { name: 'a typo', annotations: { 'infergate.io/upstream-apikey-secret': 's' }, warning: /infergate\.io\/upstream-apikey-secret is not one infergate reads/, source: 'file /etc/infergate/key (--upstream-api-key-file)' },
];

test('poolApiKeySource: annotations over the flag; a bad value is an issue naming the field, and the pool takes the flag', () => {
  for (const c of CASES) {
    const pool = inferencePool('gemma').inNamespace('llm').annotate(c.annotations);
    const r = poolApiKeySource(pool, FLAG);
    if (c.source !== undefined) assert.equal(r.source && describeApiKeySource(r.source), c.source, c.name);
    if (c.issue) {
      assert.equal(r.issues.length, 1, c.name);
      assert.match(r.issues[0]!.message, c.issue, c.name);
      assert.match(r.issues[0]!.field ?? '', /^metadata\.annotations\.infergate\.io\/upstream-api-key-(file|secret)$/, c.name);
    } else assert.deepEqual(r.issues, [], c.name);
    if (c.warning) assert.match(r.warnings.join('\n'), c.warning, c.name);
    else assert.deepEqual(r.warnings, [], c.name);
  }
});

test('defaultApiKeySource: the flag wins over INFERGATE_UPSTREAM_API_KEY; the variable is described by name, never by value', () => {
  assert.equal(defaultApiKeySource(undefined, {}), undefined);
  assert.equal(defaultApiKeySource(undefined, { INFERGATE_UPSTREAM_API_KEY: '  ' }), undefined);
  assert.deepEqual(defaultApiKeySource('/k', { INFERGATE_UPSTREAM_API_KEY: 'sk-env' }), { kind: 'file', path: '/k', origin: '--upstream-api-key-file' });
  const env = defaultApiKeySource(undefined, { INFERGATE_UPSTREAM_API_KEY: 'sk-env' })!;
  assert.equal(describeApiKeySource(env), 'environment variable INFERGATE_UPSTREAM_API_KEY');
});
