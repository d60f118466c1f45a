/**
 * What every `infergate` command loads before it runs: the libraries only some configurations use are loaded
 * when used (src/config/kube/kube-target.ts, src/observability/tracing/start-tracing.ts,
 * src/cli/tenancy-options.ts, src/kvevents/zmq-subscription.ts), not at startup. The Kubernetes client alone took about 0.45 s and 70 MiB of every
 * `serve -f`, `sim` and `--help` (docs/benchmarks.md, "Startup and memory").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './helpers/local-kube.js';

const MAIN = join(repoRoot(), 'dist/src/cli/main.js');

/** Reports every module URL the ESM loader resolves on stderr, from a loader hook registered before main runs. */
const HOOK = `data:text/javascript,${encodeURIComponent(
  `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent("export async function resolve(s, c, n) { const r = await n(s, c); process.stderr.write('RESOLVED ' + r.url + '\\\\n'); return r; }"));`,
)}`;

/** The packages a command resolved while starting (`--help` runs every static import of the CLI, then exits). */
function resolvedPackages(args: string[]): Promise<Set<string>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', HOOK, MAIN, ...args], { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (err) return reject(new Error(`${args.join(' ')} failed: ${err.message}\n${stderr}`));
      const packages = new Set<string>();
      for (const line of stderr.split('\n')) {
        const m = /^RESOLVED .*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line);
        if (m) packages.add(m[1]!);
      }
      resolve(packages);
    });
  });
}

const LOADED_WHEN_USED = ['@kubernetes/client-node', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/exporter-trace-otlp-proto', '@opentelemetry/exporter-trace-otlp-grpc', 'ioredis', 'zeromq'];

for (const args of [['--help'], ['serve', '--help'], ['sim', '--help']]) {
  test(`infergate ${args.join(' ')} loads no library only some configurations use`, async () => {
    const packages = await resolvedPackages(args);
    // The hook sees packages at all: the gateway's own HTTP client is loaded by every command.
    assert.ok(packages.has('undici'), `the loader hook saw no package load (saw: ${[...packages].join(', ')})`);
    const early = LOADED_WHEN_USED.filter((p) => packages.has(p));
    assert.deepEqual(early, [], `loaded at startup, though only --kube, tracing, --rate-limit-store or KV events need them: ${early.join(', ')}`);
  });
}
