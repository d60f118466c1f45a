/**
 * `infergate demo` takes `serve`'s --access-log and --debug-decisions, as its help and its dashboard tell users
 * to: the real CLI as a child process over a copy of examples/seed-demo on 127.0.237.x.
 */
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/local-kube.js';
import { startCli } from '../helpers/cli-process.js';
import { waitFor } from '../helpers/fleet.js';

test('demo --access-log FILE --debug-decisions N: a line per request, decisions on the admin port, SIGHUP reopens the log', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-demo-flags-'));
  await cp(join(repoRoot(), 'examples/seed-demo'), dir, { recursive: true });
  const pods = join(dir, 'pods.yaml');
  await writeFile(pods, (await readFile(pods, 'utf8')).replaceAll('127.0.0.', '127.0.237.'));
  const file = join(dir, 'access.jsonl');
  const demo = await startCli(['demo', '-f', dir, '--host', '127.0.237.1', '--port', '18237', '--admin-port', '19237', '--access-log', file, '--debug-decisions', '10', '--ttft', '0', '--itl', '1'], /configuration in force/, 30_000);
  try {
    const url = 'http://127.0.237.1:18237';
    assert.ok(await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, 15_000), 'the demo gets ready');
    const res = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'demo-1' }, body: JSON.stringify({ model: 'gemma-sql-lora', prompt: 'Hello', max_tokens: 2 }) });
    assert.equal(res.status, 200);
    await res.text();
    const decisions = (await (await fetch('http://127.0.237.1:19237/debug/scheduling')).json()) as { decisions: unknown[] };
    assert.equal(decisions.decisions.length, 1, 'the pick is kept for /debug/scheduling');
    demo.kill('SIGHUP');
    await demo.line(/access log reopened/);
    assert.ok(await waitFor(async () => (await readFile(file, 'utf8').catch(() => '')).includes('"demo-1"'), 5_000), 'the request is in the access log');
    assert.equal(demo.child.exitCode, null, 'SIGHUP did not end the demo');
  } finally {
    demo.kill('SIGTERM');
    await demo.exited;
    await rm(dir, { recursive: true, force: true });
  }
});

test('demo --access-log stdout: stdout holds the access log alone, one JSON object a line; the banner goes to stderr', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-demo-stdout-'));
  await cp(join(repoRoot(), 'examples/seed-demo'), dir, { recursive: true });
  const pods = join(dir, 'pods.yaml');
  await writeFile(pods, (await readFile(pods, 'utf8')).replaceAll('127.0.0.', '127.0.237.'));
  const child = spawn(process.execPath, [join(repoRoot(), 'dist/src/cli/main.js'), 'demo', '-f', dir, '--host', '127.0.237.1', '--port', '18238', '--admin-port', '19238', '--access-log', 'stdout', '--ttft', '0', '--itl', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const url = 'http://127.0.237.1:18238';
    assert.ok(await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, 20_000), `the demo gets ready; stderr: ${err}`);
    const res = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'demo-stdout' }, body: JSON.stringify({ model: 'gemma-sql-lora', prompt: 'Hello', max_tokens: 2 }) });
    assert.equal(res.status, 200);
    await res.text();
    assert.ok(await waitFor(() => out.includes('"demo-stdout"'), 5_000), `the request's line on stdout; stdout: ${out}`);
  } finally {
    child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `a stdout line that is not JSON: ${l}`);
  assert.match(err, /x-gateway-destination-endpoint-served/, 'the banner is on stderr');
});
