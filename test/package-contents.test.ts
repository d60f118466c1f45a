/**
 * What `npm pack` puts in the package: the files the installed command reads at run time (the linked command
 * with its run bit, the CLI, the .proto files, the demo configuration, the dashboard page), and no compiled
 * tests. Before, the 460 compiled test files and their source maps (3 MB, some importing test/ helpers the
 * package lacks) shipped with it. Test kits and fixtures (test-fixtures.js, test-kit.js, a fake engine, a hung pod,
 * an ext_proc client, ...) shipped too, though the command never loads them; now every compiled module in the
 * package is one the command can load, or a contract of types alone (compiled to an empty module).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helpers/local-kube.js';
import { loadableModules, typesOnly } from './helpers/module-closure.js';

interface PackedFile {
  path: string;
  mode: number;
}

test('npm pack ships what the command reads at run time, bin/infergate.js executable, and no tests', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [pack] = JSON.parse(out) as { files: PackedFile[] }[];
  const files = new Map(pack!.files.map((f) => [f.path, f]));
  for (const path of [
    'package.json',
    'LICENSE',
    'dist/src/cli/main.js',
    'dist/src/epp/metrics/scrape-worker.js',
    'dist/src/kvevents/ingest-worker.js',
    'proto/envoy/service/ext_proc/v3/external_processor.proto',
    'proto/grpc/health/v1/health.proto',
    'examples/seed-demo/pools.yaml',
    'examples/unified-pool/pool.yaml',
    'src/observability/dashboard/assets/index.html',
    'src/observability/dashboard/assets/dashboard.js',
    'src/observability/dashboard/assets/dashboard.css',
  ]) assert.ok(files.has(path), `${path} is in the package`);
  assert.equal((files.get('bin/infergate.js')?.mode ?? 0) & 0o111, 0o111, 'bin/infergate.js is executable');
  assert.deepEqual([...files.keys()].filter((p) => /\.test\.js(\.map)?$/.test(p)), [], 'no compiled tests');
});

test('every module the installed command can load is in the package, workers and lazily imported ones too', () => {
  const root = repoRoot();
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [pack] = JSON.parse(out) as { files: PackedFile[] }[];
  const packed = new Set(pack!.files.map((f) => f.path));
  const loadable = loadableModules(root, 'dist/src/cli/main.js');
  // The walk reaches the parts loaded apart from main's imports: they are where a file left out would hide.
  for (const part of ['dist/src/kvevents/ingest-worker.js', 'dist/src/epp/metrics/scrape-worker.js', 'dist/src/observability/tracing/tracing.js', 'dist/src/tenancy/redis-store.js']) {
    assert.ok(loadable.has(part), `${part} is reached from dist/src/cli/main.js`);
  }
  assert.deepEqual([...loadable].filter((f) => !packed.has(f)).sort(), [], 'modules the command loads but the package leaves out');
});

test('the package ships no compiled module the command cannot load: no test kits or fixtures', () => {
  const root = repoRoot();
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [pack] = JSON.parse(out) as { files: PackedFile[] }[];
  const loadable = loadableModules(root, 'dist/src/cli/main.js');
  const unloadable = pack!.files
    .map((f) => f.path)
    .filter((p) => p.startsWith('dist/') && p.endsWith('.js') && !loadable.has(p) && !typesOnly(readFileSync(join(root, p), 'utf8')));
  assert.deepEqual(unloadable.sort(), [], 'modules in the package that dist/src/cli/main.js never loads (add them to the "!" patterns of package.json files)');
  for (const p of pack!.files.map((f) => f.path)) {
    if (p.endsWith('.js.map')) assert.ok(pack!.files.some((f) => f.path === p.slice(0, -'.map'.length)), `${p} ships without its module`);
  }
});

test("--version is package.json's, and the command without a command ends its help with where to start", () => {
  const main = join(repoRoot(), 'dist/src/cli/main.js');
  const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string };
  assert.equal(execFileSync(process.execPath, [main, '--version'], { encoding: 'utf8' }).trim(), pkg.version);
  let help = '';
  try {
    execFileSync(process.execPath, [main], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    help = String((e as { stderr?: string }).stderr ?? '');
  }
  assert.match(help, /Start with: infergate demo/);
});
