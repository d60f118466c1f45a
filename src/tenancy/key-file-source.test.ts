import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../logger.js';
import { hashApiKey } from './api-key.js';
import { KeyFileSource } from './key-file-source.js';

const GOOD = `keys:\n  - name: team-a\n    keyHash: ${hashApiKey('secret-1')}\n    models: ["*"]\n`;

test('an empty keys file (an edit written in place, caught half-way) keeps the last good keys', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-keyfile-'));
  const file = join(dir, 'keys.yaml');
  await writeFile(file, GOOD);
  const src = await KeyFileSource.open(file, createLogger('silent'), 60_000);
  try {
    for (const text of ['', '\n  \n', '# keys\n\n#   more\r\n', '#'.repeat(40) + '\n']) {
      await writeFile(file, text);
      await src.reload();
      assert.equal(src.keys.lookup('secret-1')?.tenant.name, 'team-a', JSON.stringify(text));
      assert.match(src.problem ?? '', /empty.*keys: \[\]/);
    }
    // No keys at all, said explicitly, is taken.
    await writeFile(file, 'keys: []\n');
    await src.reload();
    assert.equal(src.problem, undefined);
    assert.equal(src.keys.size, 0);
    // And at startup an empty file is a bad file.
    await writeFile(file, '');
    await assert.rejects(KeyFileSource.open(file, createLogger('silent')), /empty/);
  } finally {
    src.close();
    await rm(dir, { recursive: true, force: true });
  }
});
