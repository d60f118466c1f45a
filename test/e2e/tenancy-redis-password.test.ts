/**
 * The rate-limit store's password kept off the command line: `serve --rate-limit-store redis://host:port` with
 * `--rate-limit-store-password-file` (or INFERGATE_RATE_LIMIT_STORE_PASSWORD) against a real redis-server that
 * requires it (`--requirepass`), on 127.0.249.20; the gateway and a simulated pod on 127.0.249.x.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, type Launch } from '../helpers/cli-process.js';
import { repoRoot } from '../helpers/local-kube.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, tempConfig, type Fleet, type TempConfig } from '../helpers/fleet.js';
import { haveRedisServer, startRedis, type TestRedis } from '../helpers/redis-server.js';
import { keysYaml } from '../helpers/tenancy.js';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const PASSWORD = 's3cret-pass';
const skip = (await haveRedisServer()) ? false : 'redis-server is not installed (apt-get install redis-server)';

let redis: TestRedis | undefined;
let fleet: Fleet | undefined;
let cfg: TempConfig | undefined;
let dir: string | undefined;

before(async () => {
  if (skip) return;
  redis = await startRedis('127.0.249.20', ['--requirepass', PASSWORD]);
  fleet = await startFleet(249, [{ name: 'llama-0', labels: {}, model: MODEL, ttftMs: 1, itlMs: 1 }]);
  cfg = await tempConfig({ 'all.yaml': [podYaml('llama-0', fleet.ipOf('llama-0'), { app: 'llama' }), poolYaml('llama', { app: 'llama' }, fleet.port), baseModelRouteYaml('llama', MODEL, [['llama', 1]])].join('---\n') });
  dir = await mkdtemp(join(tmpdir(), 'infergate-redis-pw-'));
  await writeFile(join(dir, 'keys.yaml'), keysYaml([{ key: 'ig-pw', name: 'team', models: ['*'], extra: { requestsPerMinute: 5 } }]));
  await writeFile(join(dir, 'redis-password'), `${PASSWORD}\n`);
});

after(async () => {
  await fleet?.close();
  await cfg?.remove();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const serveArgs = (extra: string[]): string[] => ['serve', '-f', cfg!.dir, '--host', '127.0.249.1', '--port', '0', '--admin-port', '0', '--shutdown-delay', '0s', '--api-keys', join(dir!, 'keys.yaml'), ...extra];
const withEnv = (env: NodeJS.ProcessEnv): Launch => ({ command: [process.execPath, join(repoRoot(), 'dist/src/cli/main.js')], env });
const LISTENING = /infergate listening on (http:\/\/\S+)/;

test('the password from a file (or the environment) authenticates to Redis, and requests are counted there', { skip }, async () => {
  for (const [extra, env] of [
    [['--rate-limit-store', redis!.url, '--rate-limit-store-password-file', join(dir!, 'redis-password')], process.env],
    [['--rate-limit-store', redis!.url], { ...process.env, INFERGATE_RATE_LIMIT_STORE_PASSWORD: PASSWORD }],
  ] as const) {
    const cli = await startCli(serveArgs([...extra]), LISTENING, 15_000, withEnv(env));
    try {
      const url = LISTENING.exec(await cli.line(LISTENING))![1]!;
      await cli.line(/rate-limit store connected/, 5000);
      const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer ig-pw', 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }) });
      assert.equal(r.status, 200, await r.clone().text());
      await r.arrayBuffer();
      assert.ok(Number(r.headers.get('x-ratelimit-remaining-requests')) < 5, 'counted');
    } finally {
      cli.kill('SIGTERM');
      await cli.exited;
    }
  }
});

test('a password both in the URL and in the file is refused at start (exit 2), and a URL without one cannot authenticate', { skip }, async () => {
  const url = redis!.url.replace('redis://', `redis://:${PASSWORD}@`);
  const both = await startCli(serveArgs(['--rate-limit-store', url, '--rate-limit-store-password-file', join(dir!, 'redis-password')]), LISTENING, 15_000).catch((e: unknown) => e);
  assert.match(String(both), /the Redis password is in --rate-limit-store's URL and in --rate-limit-store-password-file: give it once/);
  const none = await startCli(serveArgs(['--rate-limit-store', redis!.url]), LISTENING, 15_000, withEnv({ ...process.env, INFERGATE_RATE_LIMIT_STORE_PASSWORD: '' }));
  try {
    await none.line(/rate-limit store unreachable.*NOAUTH Authentication required/, 5000);
  } finally {
    none.kill('SIGTERM');
    await none.exited;
  }
});
