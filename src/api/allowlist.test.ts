/** BBR allowlist ConfigMaps: `data.baseModel` and `data.adapters` (a YAML list inside a string), and the label. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readResource } from './resource.js';
import { BBR_MANAGED_LABEL, IPP_MANAGED_LABEL, isAllowlist } from './allowlist.js';
import { formatIssue } from './config-issue.js';

const AT = { file: 'allowlists.yaml', document: 1 };

/** A labelled ConfigMap with this `data`. */
function configMap(data: Record<string, unknown> | undefined) {
  const raw: Record<string, unknown> = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'gemma-allowlist', namespace: 'models', labels: { [BBR_MANAGED_LABEL]: 'true' } },
  };
  if (data !== undefined) raw.data = data;
  return readResource(raw, AT);
}

describe('allowlist data', () => {
  const valid: { name: string; data: Record<string, unknown>; baseModel: string; adapters: string[] }[] = [
    { name: 'block list in a string', data: { baseModel: 'google/gemma-2b-it', adapters: '- gemma-sql-lora\n- gemma-chat-lora\n' }, baseModel: 'google/gemma-2b-it', adapters: ['gemma-sql-lora', 'gemma-chat-lora'] },
    { name: 'flow list in a string', data: { baseModel: 'm', adapters: '[a, b]' }, baseModel: 'm', adapters: ['a', 'b'] },
    { name: 'names trimmed, duplicates dropped', data: { baseModel: '  m  ', adapters: '- " a "\n- a\n- b' }, baseModel: 'm', adapters: ['a', 'b'] },
    { name: 'no adapters key', data: { baseModel: 'm' }, baseModel: 'm', adapters: [] },
    { name: 'empty adapters string', data: { baseModel: 'm', adapters: '  \n' }, baseModel: 'm', adapters: [] },
    { name: 'adapters: null', data: { baseModel: 'm', adapters: null }, baseModel: 'm', adapters: [] },
    // llm-d's payload processor decodes the list into strings (sigs.k8s.io/yaml); its own test harness lists `- 1`.
    { name: 'unquoted numbers and booleans are names, as llm-d reads them', data: { baseModel: 'qwen', adapters: '- sql-lora-sheddable\n- foo\n- 1\n- 2.5\n- true\n' }, baseModel: 'qwen', adapters: ['sql-lora-sheddable', 'foo', '1', '2.5', 'true'] },
  ];
  for (const c of valid) {
    test(c.name, () => {
      const r = configMap(c.data);
      assert.deepEqual(r.issues, []);
      assert.ok('resource' in r && r.resource.kind === 'Allowlist');
      assert.equal(r.resource.baseModel, c.baseModel);
      assert.deepEqual(r.resource.adapters, c.adapters);
      assert.deepEqual(r.resource.meta, { name: 'gemma-allowlist', namespace: 'models', labels: { [BBR_MANAGED_LABEL]: 'true' }, annotations: {} });
    });
  }

  test('an empty entry and the base model itself are skipped with a warning, as llm-d loads them', () => {
    const r = configMap({ baseModel: 'm', adapters: '- a\n- ""\n-\n- m\n- b' });
    assert.deepEqual(r.issues, []);
    assert.ok('resource' in r && r.resource.kind === 'Allowlist');
    assert.deepEqual(r.resource.adapters, ['a', 'b']);
    assert.deepEqual(
      (r.warnings ?? []).map((w) => [w.field, w.lenient, w.misroutes]),
      [
        ['data.adapters[1]', true, false],
        ['data.adapters[2]', true, false],
        ['data.adapters[3]', true, false],
      ],
    );
    assert.match(r.warnings![2]!.message, /names the base model "m" itself, not an adapter, so it is skipped/);
  });

  const invalid: { name: string; data: Record<string, unknown> | undefined; field: string; message: RegExp }[] = [
    { name: 'adapters a mapping', data: { baseModel: 'm', adapters: 'a: b' }, field: 'data.adapters', message: /must be a YAML list/ },
    { name: 'adapters a single name', data: { baseModel: 'm', adapters: 'just-one' }, field: 'data.adapters', message: /must be a YAML list/ },
    { name: 'adapters not YAML', data: { baseModel: 'm', adapters: '- a\n- [b' }, field: 'data.adapters', message: /is not a YAML list/ },
    { name: 'adapters written as a real list (ConfigMap data are strings): how to write it', data: { baseModel: 'm', adapters: ['a'] }, field: 'data.adapters', message: /must be a string holding the YAML list, as ConfigMap data values are strings: write `adapters: \|` with the `- name` lines indented under it, got a list/ },
    { name: 'adapter name not a string', data: { baseModel: 'm', adapters: '- {name: a}' }, field: 'data.adapters[0]', message: /must be an adapter name/ },
    { name: 'baseModel missing', data: { adapters: '- a' }, field: 'data.baseModel', message: /is required/ },
    { name: 'baseModel empty', data: { baseModel: '  ' }, field: 'data.baseModel', message: /must not be empty/ },
    { name: 'baseModel not a string', data: { baseModel: 3 }, field: 'data.baseModel', message: /must be a string/ },
    { name: 'data missing', data: undefined, field: 'data', message: /is required/ },
  ];
  for (const c of invalid) {
    test(c.name, () => {
      const r = configMap(c.data);
      const issue = r.issues.find((i) => i.field === c.field);
      assert.ok(issue, `no issue for ${c.field}; got ${JSON.stringify(r.issues)}`);
      assert.match(issue.message, c.message);
      assert.deepEqual(issue.location, { file: 'allowlists.yaml', document: 1, kind: 'ConfigMap', namespace: 'models', name: 'gemma-allowlist' });
      assert.match(formatIssue(issue), new RegExp(`^allowlists\\.yaml \\(document 1\\) ConfigMap models/gemma-allowlist: field ${c.field.replace(/[.[\]]/g, '\\$&')}:`));
    });
  }
});

describe('isAllowlist: llm-d\'s ipp-managed label or GIE\'s bbr-managed one, value exactly "true"', () => {
  const cases: { labels: Record<string, string>; want: boolean }[] = [
    { labels: { [IPP_MANAGED_LABEL]: 'true' }, want: true },
    { labels: { [IPP_MANAGED_LABEL]: 'True' }, want: false },
    { labels: { [IPP_MANAGED_LABEL]: 'false', [BBR_MANAGED_LABEL]: 'true' }, want: true },
    { labels: { 'inference.llm-d.ai/bbr-managed': 'true' }, want: false },
    { labels: { [BBR_MANAGED_LABEL]: 'true' }, want: true },
    { labels: { [BBR_MANAGED_LABEL]: 'True' }, want: false },
    { labels: { [BBR_MANAGED_LABEL]: 'TRUE' }, want: false },
    { labels: { [BBR_MANAGED_LABEL]: ' true' }, want: false },
    { labels: { [BBR_MANAGED_LABEL]: '' }, want: false },
    { labels: { 'inference.networking.x-k8s.io/bbr-managed': 'true' }, want: false },
    { labels: {}, want: false },
  ];
  for (const c of cases) {
    test(`${JSON.stringify(c.labels)} -> ${c.want}`, () => assert.equal(isAllowlist(c.labels), c.want));
  }
});
