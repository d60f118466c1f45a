/**
 * What `npm pack` puts in the package: the files the installed command reads at run time (the linked command
 * with its run bit, the CLI, the .proto files, the demo configuration, the dashboard page), and no compiled
 * tests. Before, the 460 compiled test files and their source maps (3 MB, some importing test/ helpers the
 * package lacks) shipped with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { repoRoot } from './helpers/local-kube.js';

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
