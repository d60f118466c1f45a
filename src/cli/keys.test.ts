import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keysCreateText, modelList } from './keys.js';
import { parseKeyFile } from '../tenancy/key-file.js';
import { KeySet } from '../tenancy/key-set.js';

test('keys create prints the key once and an entry that authenticates it', () => {
  const text = keysCreateText('team-a', ['llama*'], 'ig-secret');
  assert.equal(text.split('ig-secret').length, 2, 'the key appears exactly once');
  const entry = text.slice(text.indexOf('  - name'));
  const set = new KeySet(parseKeyFile(`keys:\n${entry}`, 'pasted'));
  assert.equal(set.lookup('ig-secret')?.tenant.name, 'team-a');
  assert.equal(set.lookup('ig-secret')?.models.allows('llama-3'), true);
});

test('--models takes names and globs, and refuses a list that names none (the keys file would refuse the entry)', () => {
  assert.deepEqual(modelList(' llama*, qwen ,'), ['llama*', 'qwen']);
  for (const bad of ['', ',', ' , ']) assert.throws(() => modelList(bad), /name at least one model or glob/);
  const entry = keysCreateText('t', modelList('m'), 'ig-k');
  assert.ok(new KeySet(parseKeyFile(`keys:\n${entry.slice(entry.indexOf('  - name'))}`, 'pasted')).lookup('ig-k'));
});
