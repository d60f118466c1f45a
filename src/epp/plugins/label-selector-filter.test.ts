/** label-selector-filter: Kubernetes label selector semantics (matchLabels AND matchExpressions). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { context, endpoint } from '../framework/test-fixtures.js';
import { LabelSelectorFilter, matchesSelector, type LabelSelector } from './label-selector-filter.js';
import { registerBuiltins } from './register-builtins.js';

describe('label-selector-filter', () => {
  const labels = { 'llm-d.ai/role': 'decode', hw: 'H100' };
  const cases: { name: string; selector: Partial<LabelSelector>; want: boolean }[] = [
    { name: 'empty selector matches', selector: {}, want: true },
    { name: 'matchLabels all equal', selector: { matchLabels: { 'llm-d.ai/role': 'decode', hw: 'H100' } }, want: true },
    { name: 'matchLabels one differs', selector: { matchLabels: { hw: 'A100' } }, want: false },
    { name: 'In', selector: { matchExpressions: [{ key: 'llm-d.ai/role', operator: 'In', values: ['decode', 'both'] }] }, want: true },
    { name: 'In, label missing', selector: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, want: false },
    { name: 'NotIn', selector: { matchExpressions: [{ key: 'hw', operator: 'NotIn', values: ['H100'] }] }, want: false },
    { name: 'NotIn, label missing', selector: { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, want: true },
    { name: 'Exists', selector: { matchExpressions: [{ key: 'hw', operator: 'Exists', values: [] }] }, want: true },
    { name: 'DoesNotExist', selector: { matchExpressions: [{ key: 'hw', operator: 'DoesNotExist', values: [] }] }, want: false },
    { name: 'labels and expressions are ANDed', selector: { matchLabels: { hw: 'H100' }, matchExpressions: [{ key: 'zone', operator: 'Exists', values: [] }] }, want: false },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(matchesSelector(labels, { matchLabels: {}, matchExpressions: [], ...c.selector }), c.want));
  }

  test('filters endpoints by their pod labels; returns its input when all match', () => {
    const eps = [endpoint('10.0.0.1').labels({ role: 'decode' }).build(), endpoint('10.0.0.2').labels({ role: 'prefill' }).build()];
    const f = registerBuiltins().create('label-selector-filter', 'decode', { matchLabels: { role: 'decode' } }) as LabelSelectorFilter;
    assert.deepEqual(f.filter(context(), eps), [eps[0]]);
    const all = new LabelSelectorFilter('all', { matchLabels: {}, matchExpressions: [] });
    assert.equal(all.filter(context(), eps), eps);
  });

  const invalid: { params: Record<string, unknown>; error: RegExp }[] = [
    { params: { matchExpressions: [{ key: 'a', operator: 'Inn', values: ['x'] }] }, error: /parameters\.matchExpressions\[0\]\.operator: must be one of In, NotIn, Exists, DoesNotExist, got "Inn"/ },
    { params: { matchExpressions: [{ key: 'a', operator: 'In' }] }, error: /matchExpressions\[0\]\.values: must not be empty for operator In/ },
    { params: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, error: /values: must be empty for operator Exists/ },
    { params: { matchExpressions: [{ operator: 'Exists' }] }, error: /matchExpressions\[0\]\.key: must be a label name/ },
    { params: { matchExpressions: [{ key: 'a', operator: 'Exists', value: 1 }] }, error: /matchExpressions\[0\]\.value: unknown field/ },
    { params: { matchLabels: { a: 1 } }, error: /parameters\.matchLabels\.a: must be a string, got 1/ },
    { params: { selector: {} }, error: /parameters\.selector: unknown parameter; known parameters: matchExpressions, matchLabels/ },
  ];
  for (const c of invalid) test(`rejects ${JSON.stringify(c.params)}`, () => assert.throws(() => registerBuiltins().create('label-selector-filter', 'f', c.params), c.error));

  test('by-label-selector is the deprecated name of the same filter', () => {
    const warnings: string[] = [];
    const f = registerBuiltins().create('by-label-selector', 'f', { matchLabels: { a: 'b' } }, { warn: (w) => warnings.push(w) });
    assert.equal(f.type, 'by-label-selector');
    assert.match(warnings[0] ?? '', /deprecated; use label-selector-filter/);
  });
});
