import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CATALOGUE } from '../../errors.js';
import { ERROR_CODE_MAP, llmDErrorCode } from './error-codes.js';

test('every catalogue code has an llm-d error code (add new codes to ERROR_CODE_MAP and docs/metrics.md)', () => {
  const missing = Object.keys(ERROR_CATALOGUE).filter((c) => !(c in ERROR_CODE_MAP));
  assert.deepEqual(missing, []);
});

test('the llm-d code agrees with the HTTP status class of the catalogue entry', () => {
  for (const [code, spec] of Object.entries(ERROR_CATALOGUE)) {
    const llmd = llmDErrorCode(code);
    if (spec.status === 429) assert.equal(llmd, 'ResourceExhausted', code);
    else if (spec.status === 403) assert.equal(llmd, 'Forbidden', code);
    else if (spec.status === 401) assert.equal(llmd, 'Unauthorized', code);
    else if (spec.status === 404) assert.equal(llmd, 'NotFound', code);
    else if (spec.status < 500) assert.equal(llmd, 'BadRequest', code);
    else assert.ok(['Internal', 'ServiceUnavailable', 'ModelServerError'].includes(llmd), `${code} -> ${llmd}`);
  }
  assert.equal(llmDErrorCode('not_a_code'), 'Unknown');
});

test("docs/metrics.md's error-code table lists every catalogue code under the llm-d code it counts as", () => {
  const doc = readFileSync(new URL('../../../../docs/metrics.md', import.meta.url), 'utf8');
  const documented = new Map<string, string>();
  for (const m of doc.matchAll(/^\| `([A-Za-z]+)` \| (.*) \|$/gm)) {
    // The codes before any ";" (what follows describes other cases, such as a model server's own status).
    for (const c of m[2]!.split(';')[0]!.matchAll(/`([a-z_]+)`/g)) if (!documented.has(c[1]!)) documented.set(c[1]!, m[1]!);
  }
  for (const [code, llmd] of Object.entries(ERROR_CODE_MAP)) assert.equal(documented.get(code), llmd, `${code} is documented under ${llmd}`);
});
