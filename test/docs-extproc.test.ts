/**
 * docs/extproc.md's "What the tests replay" table names the files that replay Envoy's messages: every
 * test/e2e/extproc-*.test.ts is listed, and every file listed exists, so a test moved or split does not leave
 * the reader looking for a sequence in a file that no longer has it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helpers/local-kube.js';

const ROOT = repoRoot();

test("docs/extproc.md's replay table lists every extproc end-to-end test file, and only files that exist", () => {
  const doc = readFileSync(join(ROOT, 'docs/extproc.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## What the tests replay'), doc.indexOf('\n## ', doc.indexOf('## What the tests replay') + 1));
  const listed = [...section.matchAll(/^\| `(test\/e2e\/[^`]+)` \|/gm)].map((m) => m[1]!);
  const files = readdirSync(join(ROOT, 'test/e2e'))
    .filter((f) => /^extproc-.*\.test\.ts$/.test(f))
    .map((f) => `test/e2e/${f}`);
  assert.deepEqual(files.filter((f) => !listed.includes(f)), [], 'test files the table does not list');
  assert.deepEqual(listed.filter((f) => !existsSync(join(ROOT, f))), [], 'files the table lists that do not exist');
});
