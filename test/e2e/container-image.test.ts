/**
 * The Dockerfile builds, and its image runs, without Docker (none runs here): test/helpers/dockerfile.ts carries
 * out its stages in folders, with the build context as .dockerignore filters it, and only `npm ci` swapped for
 * the checkout's node_modules. Then `serve` and `extproc` start from the image's files with its ENTRYPOINT,
 * on 127.0.210.x. Before, the build stage ran `npm run build` without scripts/build.mjs (left out of the
 * context), and the image had no dashboard files, so every command that opens the admin port failed at startup.
 * The image holds only modules the command can load: test kits and fixtures beside the code stay out too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/local-kube.js';
import { startCli, type Launch } from '../helpers/cli-process.js';
import { buildStages, dockerignoreMatcher, hostPath, type Stage } from '../helpers/dockerfile.js';
import { loadableModules, typesOnly } from '../helpers/module-closure.js';

const HOST = '127.0.210.20';

test('.dockerignore patterns: the last match decides, a matched folder decides for what is below it, ** spans folders', () => {
  const ignore = dockerignoreMatcher('*\n!package.json\n!src/\nsrc/**/*.test.ts\n');
  const cases: [string, boolean][] = [
    ['package.json', false],
    ['README.md', true],
    ['node_modules/x/index.js', true],
    ['src/cli/main.ts', false],
    ['src/cli/main.test.ts', true],
    ['src/a.test.ts', true],
    ['scripts/build.mjs', true],
  ];
  for (const [path, excluded] of cases) assert.equal(ignore.excluded(path), excluded, path);
});

/** `npm ci` needs the registry: the checkout's node_modules stands in. `npm prune` would prune that shared folder, so it is skipped. */
function offline(command: string): string {
  if (/^npm ci\b/.test(command)) return `ln -s ${JSON.stringify(join(repoRoot(), 'node_modules'))} node_modules`;
  if (/^npm prune\b/.test(command)) return 'true';
  if (/^npm (install|i)\b/.test(command)) throw new Error(`the test cannot run \`${command}\` offline: teach offline() about it`);
  return command;
}

/** The image's ENTRYPOINT as a command line on this machine: `node` is this Node, absolute paths are the image's. */
function entrypoint(image: Stage): Launch {
  const command = image.entrypoint.map((a, i) => (i === 0 && a === 'node' ? process.execPath : a.startsWith('/') ? hostPath(image, a) : a));
  return { command, cwd: hostPath(image, '.'), env: { PATH: process.env.PATH, ...image.env } };
}

function testsIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.test.js'));
}

test('the Dockerfile builds from its context, and serve and extproc start from the image with the dashboard', { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-image-'));
  try {
    const image = buildStages(repoRoot(), dir, offline).at(-1)!;
    assert.deepEqual(image.entrypoint.slice(-1), ['/app/dist/src/cli/main.js']);
    assert.ok(existsSync(hostPath(image, '/app/examples/seed-demo/pools.yaml')), 'the demo configuration is in the image');
    assert.ok(existsSync(hostPath(image, '/app/LICENSE')), 'the license text is in the image');
    assert.deepEqual(testsIn(hostPath(image, '/app/dist')), [], 'no compiled tests in the image');
    // Nor test kits and fixtures: every module in the image is one the command can load, or types alone.
    const app = hostPath(image, '/app');
    const loadable = loadableModules(app, 'dist/src/cli/main.js');
    const modules = readdirSync(join(app, 'dist/src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js')).map((f) => join('dist/src', f));
    assert.deepEqual(modules.filter((f) => !loadable.has(f) && !typesOnly(readFileSync(join(app, f), 'utf8'))), [], 'modules in the image the command never loads (add them to .dockerignore)');
    const launch = entrypoint(image);

    // Relative to the image's WORKDIR (/app), as `docker run IMAGE serve -f examples/seed-demo` gives it.
    const serve = await startCli(['serve', '-f', 'examples/seed-demo', '--host', HOST, '--port', '18220', '--admin-port', '19220'], /infergate listening/, 20_000, launch);
    try {
      const page = await fetch(`http://${HOST}:19220/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await page.text(), /<html/);
      assert.equal((await fetch(`http://${HOST}:19220/metrics`)).status, 200);
      assert.equal((await fetch(`http://${HOST}:18220/healthz`)).status, 200);
    } finally {
      serve.kill('SIGTERM');
      serve.kill('SIGTERM');
      await serve.exited;
    }

    const extproc = await startCli(['extproc', '-f', 'examples/seed-demo', '--host', HOST, '--bbr-port', '18221', '--epp-port', '18222', '--health-port', '18223', '--admin-port', '19221'], /ext_proc servers ready/, 20_000, launch);
    try {
      assert.equal((await fetch(`http://${HOST}:19221/`)).status, 200);
    } finally {
      extproc.kill('SIGTERM');
      extproc.kill('SIGTERM');
      await extproc.exited;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
