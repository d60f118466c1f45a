/**
 * Every EndpointPickerConfig the docs show as a whole file (a ```yaml block that opens with its apiVersion and
 * `kind: EndpointPickerConfig`) loads through the gateway's own loader without an error or a warning, so a
 * reader can copy it into `--epp-config` as it stands. The one meant to fail (the tutorial's plugin that is
 * not built in) is named below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEndpointPickerConfig } from '../src/epp/config/load-endpoint-picker-config.js';
import { registerBuiltins } from '../src/epp/plugins/register-builtins.js';
import { repoRoot } from './helpers/local-kube.js';

const ROOT = repoRoot();
/** plugins.md's "Writing and registering a plugin" loads a scorer that exists only in that example's scratch tree. */
const NOT_BUILT_IN = /running-requests-scorer/;

interface Example {
  where: string;
  text: string;
}

function examples(): Example[] {
  const out: Example[] = [];
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    // An indented block (in a list item) closes at its own indent.
    for (const m of text.matchAll(/^( *)```ya?ml\n([\s\S]*?)^\1```/gm)) {
      const body = m[2]!.split('\n').map((l) => l.slice(m[1]!.length)).join('\n');
      if (!/^apiVersion: \S+\nkind: EndpointPickerConfig\n/.test(body)) continue;
      out.push({ where: `${file}:${text.slice(0, m.index).split('\n').length}`, text: body });
    }
  }
  return out;
}

test('every whole EndpointPickerConfig in the docs loads with no error and no warning', () => {
  const found = examples();
  assert.ok(found.length >= 4, `only ${found.length} found: is the scan reading the docs?`);
  const wrong: string[] = [];
  for (const { where, text } of found) {
    if (NOT_BUILT_IN.test(text)) continue;
    try {
      const loaded = loadEndpointPickerConfig(text, { file: where, registry: registerBuiltins() });
      if (loaded.warnings.length > 0) wrong.push(`${where}: ${loaded.warnings.join('; ')}`);
    } catch (e) {
      wrong.push(`${where}: ${(e as Error).message}`);
    }
  }
  assert.deepEqual(wrong, []);
});
