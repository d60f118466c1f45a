/** `infergate bench` run as a user runs it: its exit status and report when nothing succeeds or Ctrl-C stops it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../sim/simulator.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
/** Loopback address of these tests. */
const HOST = '127.0.224.12';
/** A simulator that wants an API key. */
const KEYED_HOST = '127.0.140.2';
/** An address of these tests where nothing listens. */
const UNUSED_HOST = '127.0.140.1';

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `infergate bench ARGS` with `env` added; `onStderr` sees stderr as it grows and may signal the child. */
function bench(args: string[], onStderr?: (text: string, interrupt: () => void) => void, env: NodeJS.ProcessEnv = {}): Promise<Exit> {
  return new Promise((resolve, reject) => {
    // Without the caller's OPENAI_API_KEY: a key in the shell that runs the tests must not change what they see.
    const { OPENAI_API_KEY: _ignored, ...inherited } = process.env;
    const child = spawn(process.execPath, [MAIN, 'bench', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...inherited, ...env } });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    const interrupt = (): void => {
      if (interrupted) return;
      interrupted = true;
      child.kill('SIGINT');
    };
    // Bounded: a bench that hangs fails the test instead of holding the suite.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      onStderr?.(stderr, interrupt);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('no request succeeded (a model the server lacks): the report with the server message, then exit 1', async (t) => {
  const sim = await startSimulator({ model: 'base', host: HOST, port: 0, ttftMs: 0, itlMs: 1 });
  const out = await mkdtemp(join(tmpdir(), 'bench-cli-'));
  t.after(async () => {
    await sim.close();
    await rm(out, { recursive: true, force: true });
  });
  const r = await bench(['--url', sim.url, '--workload', 'random', '--models', 'nope', '--requests', '2', '--concurrency', '1', '--out', out, '--label', 'wrong']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /\| wrong \| closed c=1 \| 2 \| 0\.0 \|/);
  assert.match(r.stdout, /wrong failures: HTTP 404 NotFoundError x2 \(The model `nope` does not exist\.\)/);
  assert.match(r.stderr, /error: no request succeeded in wrong/);
  assert.deepEqual((await readdir(out)).sort(), ['wrong.json', 'wrong.md'], 'the report is written before the exit');
});

test('an --out folder that cannot be made stops the bench before any request, naming the flag', async (t) => {
  const sim = await startSimulator({ model: 'base', host: HOST, port: 0, ttftMs: 0, itlMs: 1 });
  const dir = await mkdtemp(join(tmpdir(), 'bench-cli-'));
  t.after(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });
  const file = join(dir, 'a-file');
  await writeFile(file, '');
  const r = await bench(['--url', sim.url, '--workload', 'random', '--models', 'base', '--requests', '2', '--out', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`error: --out ${file}: EEXIST`));
  assert.equal(sim.stats().totalRequests, 0, 'the error came first, not after the run');
});

test('Ctrl-C: the partial report is printed and written, then exit 130', async (t) => {
  // Slow decoding, so the first request is still in flight when the signal comes.
  const sim = await startSimulator({ model: 'base', host: HOST, port: 0, ttftMs: 0, itlMs: 200 });
  const out = await mkdtemp(join(tmpdir(), 'bench-cli-'));
  t.after(async () => {
    await sim.close();
    await rm(out, { recursive: true, force: true });
  });
  const args = ['--url', sim.url, '--workload', 'random', '--models', 'base', '--max-tokens', '200', '--requests', '5', '--concurrency', '1', '--out', out, '--label', 'cut'];
  const r = await bench(args, (text, interrupt) => {
    if (/sent 1 /.test(text)) interrupt();
  });
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /stopping: in-flight requests count as unfinished/);
  assert.match(r.stdout, /cut failures: unfinished \(aborted at the end of the run\) x1/);
  const report = JSON.parse(await readFile(join(out, 'cut.json'), 'utf8')) as { requests: number }[];
  assert.equal(report[0]?.requests, 1);
});

test('a run that sent no request (its first arrival after --duration) exits 1, saying why, not 0', async () => {
  // Nothing listens there: with --models given and no arrival due within 0.2 s, no socket is ever opened.
  const url = `http://${UNUSED_HOST}:9`;
  const r = await bench(['--url', url, '--workload', 'random', '--models', 'base', '--rate', '0.001', '--duration', '0.2', '--label', 'idle']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /\| idle \| open 0\.001 req\/s \| 0 \|/);
  assert.match(r.stderr, /error: no request was sent in idle: the run's --duration ended before its first arrival; give a longer --duration or a higher --rate/);
});

test('a server that wants an API key: the model list failure says to set OPENAI_API_KEY, not to pass --models', async (t) => {
  const sim = await startSimulator({ model: 'base', host: KEYED_HOST, port: 0, ttftMs: 0, itlMs: 1, apiKeys: ['sk-bench'] });
  t.after(() => sim.close());
  const args = ['--url', sim.url, '--workload', 'random', '--requests', '1'];
  const without = await bench(args);
  assert.equal(without.code, 1, without.stderr);
  assert.match(without.stderr, /answered 401.*\); the server wants an API key: set OPENAI_API_KEY/);
  assert.doesNotMatch(without.stderr, /pass --models/);
  const wrong = await bench(args, undefined, { OPENAI_API_KEY: 'sk-wrong' });
  assert.equal(wrong.code, 1, wrong.stderr);
  assert.match(wrong.stderr, /the server refused the key in OPENAI_API_KEY/);
  assert.equal(sim.stats().totalRequests, 0, 'no request was sent that could only fail the same way');
});
