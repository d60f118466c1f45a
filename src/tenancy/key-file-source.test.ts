import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
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

test('a keys file that is a symlink into another directory: an edit to its target is in force within the poll', async () => {
  // `--api-keys /etc/infergate/keys.yaml` linked to a file managed elsewhere: the target's directory gets the events.
  const dir = await mkdtemp(join(tmpdir(), 'infergate-keyfile-'));
  const target = join(dir, 'managed', 'keys.yaml');
  await mkdir(join(dir, 'managed'));
  await mkdir(join(dir, 'etc'));
  await writeFile(target, GOOD);
  await symlink(target, join(dir, 'etc', 'keys.yaml'));
  const src = await KeyFileSource.open(join(dir, 'etc', 'keys.yaml'), createLogger('silent'), 20, 100);
  let reloads = 0;
  src.onReload = () => reloads++;
  try {
    await writeFile(target, `keys:\n  - name: team-b\n    keyHash: ${hashApiKey('secret-2')}\n    models: ["*"]\n`);
    for (let i = 0; i < 150 && src.keys.lookup('secret-2') === undefined; i++) await delay(20);
    assert.equal(src.keys.lookup('secret-2')?.tenant.name, 'team-b');
    assert.equal(src.keys.lookup('secret-1'), undefined, 'the revoked key no longer works');
    const n = reloads;
    await delay(400);
    assert.equal(reloads, n, 'a file unchanged since it was read is not read again');
  } finally {
    src.close();
    await rm(dir, { recursive: true, force: true });
  }
});
