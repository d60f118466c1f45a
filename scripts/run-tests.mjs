// Runs every compiled *.test.js under dist/ with node:test (Node 20 has no glob support in --test).
// When Kubernetes integration tests are among them and LOCAL_KUBE is not set, local-kube is found and built
// once first, here, so test files never race to build it (issue #11): the first build takes minutes. Likewise the
// Debian servers some end-to-end tests start (prometheus, chromium, redis-server) are installed first when missing
// (scripts/ensure-test-servers.sh), so the README's `npm ci && npm test` passes on a fresh machine.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = find('dist', []).filter((f) => filter.length === 0 || filter.some((s) => f.includes(s))).sort();
if (files.length === 0) {
  console.error('no test files found under dist/ (did the build run?)');
  process.exit(1);
}

// The Debian packages the selected tests start, by the test files that need them.
const servers = [
  ['prometheus', /[\\/]e2e[\\/](metrics-prometheus|prometheus-alerts)\.test\.js$/],
  ['chromium', /[\\/]e2e[\\/]dashboard-browser\.test\.js$/],
  ['redis-server', /[\\/]e2e[\\/]tenancy-redis\.test\.js$/],
].filter(([, re]) => files.some((f) => re.test(f))).map(([pkg]) => pkg);
if (servers.length > 0) {
  const r = spawnSync('bash', ['scripts/ensure-test-servers.sh', ...servers], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const env = { ...process.env };
// The tests that start a real kube-apiserver: test/e2e/kube-*.test.ts.
const needsKube = files.some((f) => /[\\/]e2e[\\/]kube-/.test(f));
if (needsKube && !env.LOCAL_KUBE) {
  console.log('--- local-kube: building a real kube-apiserver for the Kubernetes integration tests, once per machine.');
  console.log('    The first time takes several minutes (apt-get and a Go build); later runs reuse the cache.');
  const r = spawnSync('bash', ['scripts/ensure-local-kube.sh'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) {
    console.error('local-kube could not be found or built (see above); the Kubernetes integration tests need it.');
    process.exit(r.status ?? 1);
  }
  env.LOCAL_KUBE = r.stdout.trim().split('\n').pop();
}

const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
