/**
 * A command that cannot start says why in one line that names the flag, in the log's format, and exits 2 for a
 * usage error or 1 for a failure to start: the real CLI as a child process, listeners on 127.0.238.x.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/local-kube.js';

const CLI = join(repoRoot(), 'dist/src/cli/main.js');
const CONFIG = join(repoRoot(), 'examples/seed-demo');

function run(...args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 20_000 }, (e, _out, err) => resolve({ code: e ? ((e as { code?: number }).code ?? null) : 0, err }));
  });
}

test('usage errors exit 2 on every command: an unknown flag, a value out of range, the admin port on the traffic port', async () => {
  const cases: [string[], RegExp][] = [
    [['explain', '-f', CONFIG, '--body', '{}', '--bogus'], /unknown option '--bogus'/],
    [['serve', '-f', CONFIG, '--port', '70000'], /--port/],
    [['sim', '--model', 'm', '--port', '99999'], /--port/],
    [['serve', '-f', CONFIG, '--log-level', 'verbose'], /--log-level must be one of debug, info, warn, error, silent, got "verbose"/],
    [['serve', '-f', CONFIG, '--host', '127.0.238.1', '--port', '18238', '--admin-port', '18238'], /--port and --admin-port are both 18238 on 127.0.238.1: give the admin listener a port of its own/],
    // extproc's four listeners on one port: found only when the second failed to bind, exit 1 after a grpc error line.
    [['extproc', '-f', CONFIG, '--host', '127.0.5.8', '--bbr-port', '18239', '--epp-port', '0', '--health-port', '0', '--admin-port', '18239'], /^error: --bbr-port and --admin-port are both 18239 on 127\.0\.5\.8: give each listener a port of its own$/m],
    // Flags that only apply with --kube, given with -f: serve's own status flags were silently ignored before.
    [['serve', '-f', CONFIG, '--host', '127.0.230.4', '--port', '0', '--admin-port', '0', '--no-pool-status'], /^error: --no-pool-status only applies with --kube$/m],
    [['serve', '-f', CONFIG, '--host', '127.0.230.4', '--port', '0', '--admin-port', '0', '--gateway-address', '10.0.0.1', '--namespace', 'llm'], /^error: --namespace, --gateway-address only apply with --kube$/m],
    // An --allow-admin-paths entry that is no admin path (a typo) allowed nothing, silently.
    [['serve', '-f', CONFIG, '--host', '127.0.230.4', '--port', '0', '--admin-port', '0', '--allow-admin-paths', '/sleep,/v1/load_lora_adaptor'], /argument '\/sleep,\/v1\/load_lora_adaptor' is invalid\. \/v1\/load_lora_adaptor is not one of vLLM's admin paths/],
    [['explain', '-f', CONFIG, '--no-discover', '--allow-admin-paths', '/v1/chat/completions'], /\/v1\/chat\/completions is not one of vLLM's admin paths/],
    // A subcommand's subcommand: its usage errors exited 1 before.
    [['keys', 'create', '--name', 'bad name'], /option '--name <name>' argument 'bad name' is invalid/],
    [['keys', 'create'], /required option '--name <name>' not specified/],
    [['keys', 'create', '--name', 't', '--models', ','], /name at least one model or glob/],
    [['keys', 'bogus'], /unknown command 'bogus'/],
  ];
  for (const [args, message] of cases) {
    const r = await run(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, message, args.join(' '));
  }
});

test('a listener that cannot start names its flags; a missing -f path says so; --log-format json writes the failure as a JSON line', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.238.2', resolve));
  const port = (busy.address() as { port: number }).port;
  try {
    const used = await run('serve', '-f', CONFIG, '--host', '127.0.238.2', '--port', String(port), '--admin-port', '0', '--log-level', 'error');
    assert.equal(used.code, 1, used.err);
    assert.match(used.err, new RegExp(`the gateway cannot listen on 127\\.0\\.238\\.2:${port} \\(--host, --port\\): the port is in use`));
    const admin = await run('serve', '-f', CONFIG, '--host', '127.0.238.3', '--port', '0', '--admin-host', '127.0.238.2', '--admin-port', String(port), '--log-level', 'error');
    assert.equal(admin.code, 1, admin.err);
    assert.match(admin.err, new RegExp(`the admin listener cannot listen on 127\\.0\\.238\\.2:${port} \\(--admin-host, --admin-port\\)`));
  } finally {
    busy.close();
  }
  // An --epp-config that cannot be read says which flag named it (it was a bare ENOENT before), on every command that takes it.
  for (const args of [['serve', '-f', CONFIG, '--host', '127.0.238.4', '--port', '0', '--admin-port', '0'], ['validate', '-f', CONFIG], ['explain', '-f', CONFIG, '--body', '{}', '--no-discover']]) {
    const epp = await run(...args, '--epp-config', '/nonexistent/epp.yaml');
    assert.equal(epp.code, args[0] === 'serve' ? 1 : 2, epp.err);
    assert.match(epp.err, /^error: --epp-config \/nonexistent\/epp\.yaml: ENOENT: no such file or directory/m, args[0]);
  }
  const missing = await run('serve', '-f', '/nonexistent/infergate-config', '--host', '127.0.238.4', '--port', '0', '--admin-port', '0');
  assert.equal(missing.code, 1);
  assert.match(missing.err, /^error: cannot read -f \/nonexistent\/infergate-config: no such file or directory$/m);
  const json = await run('serve', '-f', '/nonexistent/infergate-config', '--host', '127.0.238.4', '--port', '0', '--admin-port', '0', '--log-format', 'json', '--log-level', 'silent');
  assert.equal(json.code, 1);
  const lines = json.err.trim().split('\n');
  const last = JSON.parse(lines.at(-1)!) as { level: string; msg: string };
  assert.deepEqual([last.level, last.msg], ['error', 'cannot read -f /nonexistent/infergate-config: no such file or directory'], '--log-level silent does not hide it');
  for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `every line is JSON: ${l}`);
  const url = await run('serve', '-f', CONFIG, '--host', '127.0.238.4', '--port', '0', '--admin-port', '0', '--log-format', 'json', '--otlp-endpoint', '127.0.238.9:4318');
  assert.equal(url.code, 2);
  assert.match((JSON.parse(url.err.trim().split('\n').at(-1)!) as { msg: string }).msg, /--otlp-endpoint/);
});

test('an --access-log file that cannot be opened stops serve with one line naming the flag, not a stack trace', async () => {
  const r = await run('serve', '-f', CONFIG, '--host', '127.0.230.1', '--port', '0', '--admin-port', '0', '--log-level', 'error', '--access-log', '/nonexistent/infergate-logs/access.jsonl');
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /^error: --access-log \/nonexistent\/infergate-logs\/access\.jsonl: cannot open the file for appending \(ENOENT\)/m);
  assert.doesNotMatch(r.err, /Unhandled 'error' event|\n\s+at /, 'no stack trace');
});

test('demo over a config with no Pods to simulate fails to start and says what it needs (it served a gateway with no pods before)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-demo-empty-'));
  try {
    await writeFile(join(dir, 'route.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: unrelated}\ndata: {}\n');
    const r = await run('demo', '-f', dir, '--host', '127.0.230.3', '--port', '0', '--admin-port', '0', '--log-level', 'error');
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /^error: could not start the demo: .* has no Pod with a status\.podIP and a --model in its container args, so there is nothing to simulate/m);
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing -f path is said the same way by serve, extproc, explain and demo (the others gave a bare ENOENT from stat)', async () => {
  const cases: [string[], number][] = [
    [['serve', '--host', '127.0.230.3', '--port', '0', '--admin-port', '0', '--log-level', 'error'], 1],
    [['extproc', '--host', '127.0.230.3', '--bbr-port', '0', '--epp-port', '0', '--health-port', '0', '--admin-port', '0', '--log-level', 'error'], 1],
    [['explain', '--body', '{}', '--no-discover'], 2],
    [['demo', '--host', '127.0.230.3', '--port', '0', '--admin-port', '0', '--log-level', 'error'], 1],
  ];
  for (const [args, code] of cases) {
    const r = await run(...args, '-f', '/nonexistent/infergate-config');
    assert.equal(r.code, code, `${args[0]}: ${r.err}`);
    assert.match(r.err, /^error: (could not start the demo: )?cannot read -f \/nonexistent\/infergate-config: no such file or directory$/m, args[0]);
  }
});
