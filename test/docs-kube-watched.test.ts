/**
 * docs/kubernetes.md "What is watched" names every kind the Kubernetes source lists and watches
 * (src/config/kube/resource-types.ts), so an operator reading it to write a Role, or to see why a
 * watch was opened, finds each one there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as types from '../src/config/kube/resource-types.js';
import type { ResourceType } from '../src/config/kube/resource-types.js';
import { repoRoot } from './helpers/local-kube.js';

const isType = (v: unknown): v is ResourceType => typeof v === 'object' && v !== null && 'plural' in v && 'apiVersion' in v;

test('docs/kubernetes.md "What is watched" has a row for every resource the kube source watches', () => {
  const doc = readFileSync(join(repoRoot(), 'docs', 'kubernetes.md'), 'utf8');
  const section = /\n## What is watched\n([\s\S]*?)\n## /.exec(doc)?.[1];
  assert.ok(section, 'docs/kubernetes.md has a "What is watched" section');
  // The resources each table row's first column names, in backticks.
  const named = new Set(section.split('\n').filter((l) => l.startsWith('| `')).flatMap((l) => [...(l.split('|')[1] ?? '').matchAll(/`([a-z]+)`/g)].map((m) => m[1])));
  const watched = [...new Set(Object.values(types).filter(isType).map((t) => t.plural))];
  assert.ok(watched.length >= 8, `resource-types.ts exports the watched kinds (found ${watched.join(', ')})`);
  assert.deepEqual(watched.filter((p) => !named.has(p)), [], 'watched but not in the table');
});
