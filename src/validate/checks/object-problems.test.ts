/** object-problems: a strict-load error that no other check names still comes out, as config-error. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildContext } from '../validation-context.js';
import { objectProblems } from './object-problems.js';

test('a strict-load issue other than a duplicate or an allowlist conflict is reported as config-error', () => {
  const ctx = buildContext({ source: 'files', resources: [], issues: [], servers: [] }, {});
  const location = { file: 'x.yaml', document: 2, kind: 'InferencePool', namespace: 'llm-d', name: 'p' };
  const findings = objectProblems.run({ ...ctx, strictIssues: [{ location, field: 'spec', message: 'a problem added to the snapshot builder later' }] });
  assert.deepEqual(
    findings.map((f) => [f.severity, f.code, f.object, f.location, f.field]),
    [['error', 'config-error', { kind: 'InferencePool', namespace: 'llm-d', name: 'p' }, { file: 'x.yaml', document: 2 }, 'spec']],
  );
});
