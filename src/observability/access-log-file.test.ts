import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../logger.js';
import { AccessLog } from './access-log.js';
import { newRequestRecord } from './request-record.js';

function record(id: string): ReturnType<typeof newRequestRecord> {
  const r = newRequestRecord(id, 'POST', '/v1/chat/completions', '127.0.228.9');
  Object.assign(r, { status: 200, endedAt: r.startedAt + 5 });
  return r;
}

async function ids(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { request_id: string }).request_id);
}

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-access-file-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a file that cannot be opened is a startup error naming the flag and the path, not an uncaught error event', async () => {
  await withDir(async (dir) => {
    const file = join(dir, 'no-such-dir', 'access.jsonl');
    assert.throws(() => new AccessLog({ file }, createLogger('silent')), (e: Error) => e.message.startsWith(`--access-log ${file}: cannot open the file for appending (ENOENT)`));
    // A directory is no file either.
    assert.throws(() => new AccessLog({ file: dir }, createLogger('silent')), /--access-log .*: cannot open the file for appending \(EISDIR\)/);
  });
});

test('SIGHUP with the directory gone: reopen rejects, and the lines go on to the file open before', async () => {
  await withDir(async (dir) => {
    const logs = join(dir, 'logs');
    const moved = join(dir, 'moved');
    await mkdir(logs);
    const file = join(logs, 'access.jsonl');
    const log = new AccessLog({ file }, createLogger('silent'));
    log.ended(record('before'));
    // The directory is renamed away: the path names nothing, the open file lives on under the new name.
    await rename(logs, moved);
    await assert.rejects(log.reopen(), /--access-log .*access\.jsonl: cannot open the file for appending \(ENOENT\)/);
    log.ended(record('after'));
    await log.close();
    assert.deepEqual(await ids(join(moved, 'access.jsonl')), ['before', 'after']);
    assert.equal(existsSync(file), false);
  });
});

test('a file that fails when written (a full disk) costs lines, said once in the log, never the process; SIGHUP brings it back', async () => {
  await withDir(async (dir) => {
    const file = join(dir, 'access.jsonl');
    // /dev/full takes every open and fails every write with ENOSPC, as a full disk does.
    await symlink('/dev/full', file);
    const lines: string[] = [];
    const log = new AccessLog({ file }, createLogger('info', (l) => lines.push(l)));
    for (let round = 0; round < 3; round++) {
      log.ended(record(`lost-${round}`));
      log.flush();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const errors = lines.filter((l) => l.includes('ERROR'));
    assert.equal(errors.length, 1, lines.join('\n'));
    assert.match(errors[0]!, /access log: writing to the file failed; lines are dropped until it can be written .*file=.*access\.jsonl error=.*ENOSPC/);
    // The disk has room again (here: the path is a plain file), and logrotate's SIGHUP reopens it.
    await unlink(file);
    await log.reopen();
    log.ended(record('kept'));
    log.flush();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await log.close();
    assert.deepEqual(await ids(file), ['kept']);
    const recovered = /INFO .*access log: the file is written again .*dropped_lines=(\d+)/.exec(lines.at(-1)!);
    assert.ok(recovered, lines.join('\n'));
    // Every line lost is counted, in the error's line or the recovery's.
    assert.equal(Number(/dropped_lines=(\d+)/.exec(errors[0]!)![1]) + Number(recovered[1]), 3);
  });
});
