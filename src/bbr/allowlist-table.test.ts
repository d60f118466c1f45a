/** buildAllowlistTable: adapter -> base from every allowlist ConfigMap; conflicts name both ConfigMaps. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Allowlist } from '../api/allowlist.js';
import { allowlist } from '../api/test-fixtures.js';
import { buildAllowlistTable } from './allowlist-table.js';

describe('buildAllowlistTable', () => {
  const cases: {
    name: string;
    allowlists: Allowlist[];
    bases: Record<string, string[]>;
    adapters: Record<string, string>;
    issues?: { name: string; field: string; message: RegExp }[];
  }[] = [
    { name: 'nothing', allowlists: [], bases: {}, adapters: {} },
    {
      name: 'one base with adapters',
      allowlists: [allowlist('gemma').base('google/gemma-2b-it').adapter('sql-lora', 'chat-lora')],
      bases: { 'google/gemma-2b-it': ['ConfigMap default/gemma'] },
      adapters: { 'sql-lora': 'google/gemma-2b-it', 'chat-lora': 'google/gemma-2b-it' },
    },
    {
      name: 'two bases',
      allowlists: [allowlist('gemma').base('gemma').adapter('g-lora'), allowlist('llama').inNamespace('team-b').base('llama').adapter('l-lora')],
      bases: { gemma: ['ConfigMap default/gemma'], llama: ['ConfigMap team-b/llama'] },
      adapters: { 'g-lora': 'gemma', 'l-lora': 'llama' },
    },
    {
      name: 'the same base in two ConfigMaps: adapters unioned, the same adapter twice is fine',
      allowlists: [allowlist('a').base('gemma').adapter('x', 'both'), allowlist('b').base('gemma').adapter('y', 'both')],
      bases: { gemma: ['ConfigMap default/a', 'ConfigMap default/b'] },
      adapters: { x: 'gemma', both: 'gemma', y: 'gemma' },
    },
    {
      name: 'an adapter claimed by two bases is left out, not given to the ConfigMap listed first',
      allowlists: [allowlist('gemma-allowlist').base('gemma').adapter('shared'), allowlist('llama-allowlist').base('llama').adapter('own', 'shared')],
      bases: { gemma: ['ConfigMap default/gemma-allowlist'], llama: ['ConfigMap default/llama-allowlist'] },
      adapters: { own: 'llama' },
      issues: [{ name: 'llama-allowlist', field: 'data.adapters[1]', message: /adapter "shared" maps to base "llama" here but to "gemma" in ConfigMap default\/gemma-allowlist/ }],
    },
    {
      name: 'the same conflict listed in the other order gives the same table',
      allowlists: [allowlist('llama-allowlist').base('llama').adapter('own', 'shared'), allowlist('gemma-allowlist').base('gemma').adapter('shared')],
      bases: { llama: ['ConfigMap default/llama-allowlist'], gemma: ['ConfigMap default/gemma-allowlist'] },
      adapters: { own: 'llama' },
      issues: [{ name: 'gemma-allowlist', field: 'data.adapters[0]', message: /adapter "shared" maps to base "gemma" here but to "llama" in ConfigMap default\/llama-allowlist/ }],
    },
    {
      name: 'a name both a base and an adapter, whatever the order of the ConfigMaps',
      allowlists: [allowlist('llama-allowlist').base('llama').adapter('gemma'), allowlist('gemma-allowlist').base('gemma')],
      bases: { llama: ['ConfigMap default/llama-allowlist'], gemma: ['ConfigMap default/gemma-allowlist'] },
      adapters: {},
      issues: [{ name: 'llama-allowlist', field: 'data.adapters[0]', message: /"gemma" is an adapter here but a base model in ConfigMap default\/gemma-allowlist/ }],
    },
    {
      name: 'an allowlist without base (already reported by the reader) adds nothing',
      allowlists: [allowlist('broken').adapter('orphan')],
      bases: {},
      adapters: {},
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { table, issues } = buildAllowlistTable(c.allowlists);
      assert.deepEqual(Object.fromEntries(table.bases), c.bases);
      assert.deepEqual(Object.fromEntries([...table.adapters].map(([k, v]) => [k, v.base])), c.adapters);
      const want = c.issues ?? [];
      assert.equal(issues.length, want.length, JSON.stringify(issues));
      want.forEach((w, i) => {
        const got = issues[i]!;
        assert.equal(got.location.kind, 'ConfigMap');
        assert.equal(got.location.name, w.name);
        assert.equal(got.field, w.field);
        assert.match(got.message, w.message);
      });
    });
  }

  test('a left-out adapter keeps every claim on it, sorted, for the 404 to name', () => {
    const { table } = buildAllowlistTable([allowlist('z').base('llama').adapter('shared'), allowlist('a').base('gemma').adapter('shared'), allowlist('b').base('gemma').adapter('shared')]);
    assert.deepEqual(table.conflicts?.get('shared'), ['"gemma" in ConfigMap default/a', '"gemma" in ConfigMap default/b', '"llama" in ConfigMap default/z']);
    assert.equal(table.conflicts?.size, 1);
  });

  test('an adapter remembers the ConfigMap that declared it first', () => {
    const { table } = buildAllowlistTable([allowlist('a').base('gemma').adapter('lora'), allowlist('b').inNamespace('ns').base('gemma').adapter('lora')]);
    assert.deepEqual(table.adapters.get('lora'), { base: 'gemma', origin: 'ConfigMap default/a' });
  });
});
