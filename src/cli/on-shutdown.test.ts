import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../logger.js';
import { onSighupReopen } from './on-shutdown.js';

/** Emits SIGHUP to the handler onSighupReopen registers (no real signal) and returns what it logged. */
async function hangup(flag: string | undefined, accessLog: { reopen(): Promise<void> } | undefined): Promise<string[]> {
  const lines: string[] = [];
  const off = onSighupReopen(accessLog, flag, createLogger('info', (l) => lines.push(l)));
  try {
    process.emit('SIGHUP', 'SIGHUP');
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    off();
  }
  return lines;
}

test('SIGHUP reopens an access log file, and says that there is none to reopen with --access-log stdout or off', async () => {
  let reopened = 0;
  const accessLog = { reopen: async () => void reopened++ };
  assert.match((await hangup('/var/log/infergate/access.jsonl', accessLog)).join('\n'), /INFO {2}SIGHUP received: access log reopened file=\/var\/log\/infergate\/access\.jsonl$/);
  assert.equal(reopened, 1);
  for (const flag of ['stdout', '-']) {
    const lines = await hangup(flag, accessLog);
    assert.deepEqual(lines.map((l) => l.replace(/^\S+ /, '')), ['INFO  SIGHUP received: no access log file to reopen (--access-log stdout)'], flag);
  }
  assert.equal(reopened, 1, 'stdout is not "reopened"');
  assert.deepEqual((await hangup(undefined, undefined)).map((l) => l.replace(/^\S+ /, '')), ['INFO  SIGHUP received: no access log file to reopen']);
});
