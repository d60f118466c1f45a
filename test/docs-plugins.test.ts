/**
 * The plugin types the docs name agree with the registry: every registered type has a row in plugins.md's
 * table of built-in plugins, and an error quoted in the docs lists the registered types as the tool does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { registerBuiltins } from '../src/epp/plugins/register-builtins.js';
import { repoRoot } from './helpers/local-kube.js';

const ROOT = repoRoot();
const TYPES = registerBuiltins().types();

test("every registered plugin type has a row in plugins.md's table of built-in plugins", () => {
  const text = readFileSync(join(ROOT, 'docs/plugins.md'), 'utf8');
  const section = text.slice(text.indexOf('## The built-in plugins'));
  const rows = section.slice(0, section.search(/\n\n(?!\|)/)).split('\n').filter((l) => l.startsWith('| '));
  // The Type column: `a` or [`a`](#a), with aliases in parentheses and several types in one row.
  const named = new Set(rows.flatMap((r) => [...(r.split(' | ')[0] ?? '').matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]!)));
  assert.deepEqual(TYPES.filter((t) => !named.has(t)), []);
});

test('every "registered types:" list quoted in the docs is the registry\'s', () => {
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  let lists = 0;
  for (const file of files) {
    for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(/registered types: ([a-z0-9-]+(?:, [a-z0-9-]+)*)/g)) {
      lists++;
      assert.deepEqual(m[1]!.split(', '), TYPES, file);
    }
  }
  assert.ok(lists > 0, 'no quoted list found: is the scan reading the docs?');
});
