/**
 * `serve --log-format json`, as a process: every line it writes to stderr, from startup to the end of a
 * SIGTERM, is one JSON object with time, level and msg; an unknown format stops it at startup. Loopback
 * 127.0.142.x.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCli } from '../helpers/cli-process.js';
import { baseModelRouteYaml, podYaml, poolYaml, tempConfig, type TempConfig } from '../helpers/fleet.js';
import { repoRoot } from '../helpers/local-kube.js';

let cfg: TempConfig;

before(async () => {
  // A pool whose one pod answers nothing: the log has warnings to write as well as the startup lines.
  cfg = await tempConfig({ 'all.yaml': [podYaml('quiet-0', '127.0.142.2', { app: 'quiet' }), poolYaml('quiet', { app: 'quiet' }, 9), baseModelRouteYaml('quiet', 'quiet-model', [['quiet', 1]])].join('---\n') });
});

after(async () => {
  await cfg?.remove();
});

describe('serve --log-format', () => {
  it('json: every line from startup to shutdown is one JSON object with time, level and msg (and --enable-pprof serves a profile)', async () => {
    const cli = await startCli(['serve', '-f', cfg.dir, '--host', '127.0.142.3', '--port', '0', '--admin-port', '0', '--shutdown-delay', '0s', '--log-format', 'json', '--enable-pprof'], /infergate listening on http:\/\//);
    try {
      const listening = JSON.parse(await cli.line(/listening on/)) as { msg: string; admin: string };
      const url = /listening on (http:\/\/\S+)/.exec(listening.msg)![1]!;
      // --enable-pprof reaches the admin listener from the command line.
      const heap = await fetch(`${listening.admin}/debug/pprof/heap?seconds=0.2`);
      assert.equal(heap.status, 200);
      assert.equal(((await heap.json()) as { head: { callFrame: { functionName: string } } }).head.callFrame.functionName, '(root)');
      const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'no-such-model', messages: [] }) });
      assert.equal(res.status, 404);
      cli.kill('SIGTERM');
      assert.equal((await cli.exited).code, 0);
    } finally {
      cli.kill('SIGKILL');
    }
    const lines = cli.lines.filter((l) => l !== '');
    assert.ok(lines.length >= 3, `startup and shutdown lines: ${lines.join('\n')}`);
    const objects = lines.map((l) => {
      try {
        return JSON.parse(l) as { time: string; level: string; msg: string };
      } catch {
        return assert.fail(`not a JSON line: ${l}`);
      }
    });
    for (const o of objects) {
      assert.ok(!Number.isNaN(Date.parse(o.time)), `a time: ${JSON.stringify(o)}`);
      assert.ok(['debug', 'info', 'warn', 'error'].includes(o.level), `a level: ${JSON.stringify(o)}`);
      assert.equal(typeof o.msg, 'string');
    }
    assert.ok(objects.some((o) => o.level === 'info' && /listening on/.test(o.msg)));
  });

  it('an unknown format stops serve at startup (exit 2), naming the ones it knows', () => {
    const r = spawnSync(process.execPath, [join(repoRoot(), 'dist/src/cli/main.js'), 'serve', '-f', cfg.dir, '--host', '127.0.142.4', '--port', '0', '--log-format', 'yaml'], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--log-format must be one of text, json, got "yaml"/);
  });
});
