/** The `infergate validate` command: exit statuses 0 (clean), 1 (findings), 2 (could not read), and its JSON. */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Command } from 'commander';
import { registerExplainCommand } from './explain.js';
import { registerValidateCommand } from './validate.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/validate/', import.meta.url));

class ExitCalled extends Error {
  constructor(readonly code: number | undefined) {
    super(`process.exit(${code})`);
  }
}

/** Runs `infergate validate ...args` in this process: its exit status, stdout and stderr. */
async function run(t: TestContext, ...args: string[]): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  t.mock.method(console, 'log', (s: string) => out.push(s));
  t.mock.method(console, 'error', (s: string) => err.push(s));
  t.mock.method(process, 'exit', (code?: number) => {
    throw new ExitCalled(code);
  });
  const program = new Command('infergate').configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
  registerValidateCommand(program);
  let status: number;
  try {
    await program.parseAsync(['validate', ...args], { from: 'user' });
    status = Number(process.exitCode ?? 0);
  } catch (e) {
    if (!(e instanceof ExitCalled)) throw e;
    status = e.code ?? 0;
  } finally {
    process.exitCode = undefined;
    t.mock.restoreAll();
  }
  return { status, out: out.join('\n'), err: err.join('\n') };
}

test('exit 0 for a clean configuration, with a summary of what was checked', async (t) => {
  const r = await run(t, '-f', `${FIXTURES}clean.yaml`);
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, /^checked 2 allowlist ConfigMaps, 1 ConfigMap, 1 Deployment pod template, .*, 2 InferencePools, 1 Pod; what 2 of 2 model servers serve is known \(vLLM args\): 0 errors, 0 warnings$/);
});

test('exit 1 for findings; --fail-on error lets warnings alone through with 0', async (t) => {
  const broken = await run(t, '-f', `${FIXTURES}backend-pool-missing.yaml`);
  assert.equal(broken.status, 1);
  assert.match(broken.out, /^error backend-pool-missing: HTTPRoute llm-d\/gemma \(.*backend-pool-missing\.yaml, document 4\) spec\.rules\[0\]\.backendRefs\[0\]\n {2}names InferencePool llm-d\/gemma-pool, which is not in the configuration.*\n {2}fix: Create InferencePool llm-d\/gemma-pool, or set the backendRef's name to an existing pool \(in llm-d: gemma\)\.$/m);
  assert.equal((await run(t, '-f', `${FIXTURES}field-report-unified-pool.yaml`)).status, 1);
  const lenient = await run(t, '-f', `${FIXTURES}field-report-unified-pool.yaml`, '--fail-on', 'error');
  assert.equal(lenient.status, 0);
  assert.match(lenient.out, /warning pool-mixed-base-models/);
});

test('exit 2 when the configuration cannot be read or a flag is wrong, saying why on stderr', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['-f', `${FIXTURES}no-such-dir`], /error: cannot read .*no-such-dir: ENOENT/],
    [['-f', `${FIXTURES}clean.yaml`, '--output', 'yaml'], /argument 'yaml' is invalid. Allowed choices are text, json/],
    [['-f', `${FIXTURES}clean.yaml`, '--fail-on', 'info'], /Allowed choices are warning, error/],
    [['-f', `${FIXTURES}clean.yaml`, '--probe-timeout', 'soon'], /--probe-timeout.*must be a duration such as "500ms", "30s" or "2m" \(or whole milliseconds\), at least 1ms, got "soon"/],
    [['-f', `${FIXTURES}clean.yaml`, '--probe', '--probe-timeout', '2m'], /--probe-timeout.*must be at most 1m, got "2m"/],
    [['--kube', '--timeout', '1h'], /--timeout.*must be at most 10m, got "1h"/],
    [['-f', `${FIXTURES}clean.yaml`, '--no-such-flag'], /unknown option '--no-such-flag'/],
    [[], /give a configuration source: -f PATH .* or --kube/],
    [['-f', `${FIXTURES}clean.yaml`, '--kube'], /give either -f PATH or --kube, not both/],
    // Flags for what this run does not do were silently unused.
    [['-f', `${FIXTURES}clean.yaml`, '--timeout', '5000'], /^error: --timeout only applies with --kube$/m],
    [['-f', `${FIXTURES}clean.yaml`, '--probe-timeout', '500'], /^error: --probe-timeout only applies with --probe$/m],
    [['-f', `${FIXTURES}clean.yaml`, '--epp-config', `${FIXTURES}nope.yaml`], /error: --epp-config .*nope\.yaml: ENOENT/],
  ];
  // A directory without YAML files says what it holds: manifests in subdirectories (a repository's deploy/, a
  // kustomize tree) are not read, nor other files; it said only 'no .yaml or .yml files to validate'.
  const dir = await mkdtemp(join(tmpdir(), 'validate-dirs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const sub of ['base', 'overlays']) await mkdir(join(dir, sub));
  await writeFile(join(dir, 'base', 'pool.yaml'), 'kind: InferencePool\n');
  await writeFile(join(dir, 'README.md'), 'manifests\n');
  await writeFile(join(dir, 'pods.json'), '{}\n');
  const escaped = dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  cases.push([['-f', dir], new RegExp(`^error: ${escaped}: no \\.yaml or \\.yml files to validate; subdirectories are not read \\(base/, overlays/\\): give one of them to -f, or for a kustomize tree the output of kubectl kustomize DIR saved to a file; it holds README\\.md, pods\\.json, which -f does not read \\(only \\*\\.yaml and \\*\\.yml\\)$`)]);
  for (const [args, message] of cases) {
    const r = await run(t, ...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.err, message, args.join(' '));
    assert.equal(r.out, '', `${args.join(' ')}: nothing on stdout`);
  }
});

test('--output json prints one stable document: findings with fixed keys, and the summary', async (t) => {
  const r = await run(t, '-f', `${FIXTURES}field-report-missing-allowlist.yaml`, '--output', 'json');
  assert.equal(r.status, 1);
  const doc = JSON.parse(r.out) as { findings: Record<string, unknown>[]; summary: Record<string, unknown> };
  assert.deepEqual(Object.keys(doc), ['findings', 'summary']);
  assert.equal(doc.findings.length, 2);
  const [first] = doc.findings;
  assert.deepEqual(Object.keys(first!), ['severity', 'code', 'object', 'location', 'field', 'message', 'fix']);
  assert.deepEqual(
    { ...first, message: undefined, fix: undefined },
    {
      severity: 'warning',
      code: 'base-model-not-allowlisted',
      object: { kind: 'HTTPRoute', namespace: 'llm-d', name: 'llm-d-pattern2-gemma-route' },
      location: { file: `${FIXTURES}field-report-missing-allowlist.yaml`, document: 5 },
      field: 'spec.rules[0].matches[0].headers[0].value',
      message: undefined,
      fix: undefined,
    },
  );
  assert.deepEqual(doc.summary, {
    errors: 0,
    warnings: 2,
    objects: { HTTPRoute: 2, InferencePool: 2, Pod: 2 },
    servers: { total: 2, known: 2, from: ['vLLM args'] },
    skipped: {},
  });
  // The same input gives the same bytes.
  assert.equal((await run(t, '-f', `${FIXTURES}field-report-missing-allowlist.yaml`, '--output', 'json')).out, r.out);
});

test('--upstream-api-key-file: a file that cannot be read exits 2 naming it; one that can clears api-key-missing', async (t) => {
  const missing = await run(t, '-f', `${FIXTURES}api-key-missing.yaml`, '--upstream-api-key-file', '/nonexistent/infergate-key');
  assert.equal(missing.status, 2);
  assert.match(missing.err, /^error: file \/nonexistent\/infergate-key \(--upstream-api-key-file\): cannot read \/nonexistent\/infergate-key: ENOENT/);
  assert.equal((await run(t, '-f', `${FIXTURES}api-key-missing.yaml`)).status, 1);
  const dir = await mkdtemp(join(tmpdir(), 'infergate-validate-key-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'key'), 'sk-test\n');
  const keyed = await run(t, '-f', `${FIXTURES}api-key-missing.yaml`, '--upstream-api-key-file', join(dir, 'key'));
  assert.equal(keyed.status, 0, keyed.out);
  assert.doesNotMatch(keyed.out + keyed.err, /sk-test/);
});

test('--help of validate and explain says --kube lists once: they never watch (it said "list + watch", "the namespace to watch")', () => {
  for (const register of [registerValidateCommand, registerExplainCommand]) {
    const program = new Command('infergate');
    register(program);
    const help = program.commands[0]!.helpInformation().replace(/\s+/g, ' ');
    assert.match(help, /--kube read the configuration from the Kubernetes API \(one list of each kind now, no watch\) instead of -f/);
    assert.match(help, /--namespace <ns> with --kube: the namespace to read /);
    assert.match(help, /--all-namespaces with --kube: read every namespace/);
    assert.doesNotMatch(help, /list \+ watch|to watch|watch every/);
  }
});

test('--timeout and --probe-timeout take durations (30s, 1.5s) as every other timing flag does, and whole milliseconds as before', () => {
  const program = new Command('infergate');
  registerValidateCommand(program);
  const option = (long: string) => program.commands[0]!.options.find((o) => o.long === long)!;
  const cases: Array<[string, string, number]> = [['--timeout', '45s', 45_000], ['--timeout', '2m', 120_000], ['--timeout', '5000', 5000], ['--probe-timeout', '1.5s', 1500], ['--probe-timeout', '500ms', 500], ['--probe-timeout', '2000', 2000]];
  for (const [long, text, ms] of cases) assert.equal(option(long).parseArg!(text, undefined), ms, `${long} ${text}`);
  assert.equal(option('--timeout').defaultValueDescription, '30s');
  assert.equal(option('--probe-timeout').defaultValueDescription, '1.5s');
});
