/**
 * `infergate extproc --cert-file --key-file` as a user runs it: a pair that does not make a certificate, a missing
 * file or one flag alone is a usage error (exit 2, one line naming the files), before any configuration is read,
 * as with `serve`; a good pair starts the servers with TLS. Loopback 127.0.145.x.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCertificate } from '../../src/extproc/self-signed-certificate.js';
import { repoRoot } from '../helpers/local-kube.js';

const MAIN = join(repoRoot(), 'dist/src/cli/main.js');
const CONFIG = join(repoRoot(), 'examples/seed-demo');
const HOST = '127.0.145.1';
const ports = ['--bbr-port', '0', '--epp-port', '0', '--health-port', '0', '--admin-port', '0'];

test('extproc refuses certificate files that do not load, with exit 2 and before the configuration; a good pair serves TLS', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-extproc-flags-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const a = selfSignedCertificate({ commonName: 'a' });
  const b = selfSignedCertificate({ commonName: 'b' });
  const [certA, keyA, keyB] = [join(dir, 'a.crt'), join(dir, 'a.key'), join(dir, 'b.key')];
  await Promise.all([writeFile(certA, a.cert), writeFile(keyA, a.key), writeFile(keyB, b.key)]);

  const cases: [string[], RegExp][] = [
    [['--cert-file', certA, '--key-file', keyB], /^error: --cert-file .*a\.crt and --key-file .*b\.key do not make a TLS certificate: .*key values mismatch\n$/],
    [['--cert-file', join(dir, 'none.crt'), '--key-file', keyA], /^error: cannot read --cert-file .*none\.crt: ENOENT/],
    [['--key-file', keyA], /^error: --cert-file and --key-file go together/],
  ];
  for (const [flags, message] of cases) {
    const r = spawnSync(process.execPath, [MAIN, 'extproc', '-f', CONFIG, '--host', HOST, ...ports, ...flags], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.status, 2, `${flags.join(' ')}: exit ${r.status}\n${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stdout + r.stderr, /configuration in force/, 'refused before the configuration was read');
  }

  const good = spawn(process.execPath, [MAIN, 'extproc', '-f', CONFIG, '--host', HOST, ...ports, '--cert-file', certA, '--key-file', keyA], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => good.kill('SIGKILL'));
  let out = '';
  good.stdout.on('data', (d: Buffer) => (out += d.toString()));
  good.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 15_000;
  while (!/ext_proc servers ready/.test(out) && good.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(out, /ext_proc servers ready.*tls=.*TLS with .*a\.crt/, out);
});
