/**
 * deploy/prometheus/infergate-alerts.yaml: `promtool check rules` accepts it, `promtool test rules` fires each
 * alert on the synthetic series of test/fixtures/prometheus (and not on those it must ignore), and every metric
 * name its expressions read is on a running gateway's /metrics. Loopback 127.0.144.x.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { podYaml, poolYaml, prefixRouteYaml, startFleet, startTestGateway, tempConfig, type Fleet, type TempConfig } from '../helpers/fleet.js';
import { repoRoot } from '../helpers/local-kube.js';
import { exposedTypes, exposes, metricNames } from '../helpers/promql-names.js';

const ROOT = repoRoot();
const RULES = join(ROOT, 'deploy/prometheus/infergate-alerts.yaml');

function promtool(): string {
  const r = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  const path = r.stdout.trim();
  if (r.status !== 0 || path === '') assert.fail("promtool is not installed: install Debian's prometheus package (apt-get install -y prometheus); npm test and .ci/run do it when they can (scripts/ensure-test-servers.sh).");
  return path;
}

/** Each rule's alert name and expression, read from the file's `- alert:` / `expr:` lines. */
function rules(): { alert: string; expr: string }[] {
  const out: { alert: string; expr: string }[] = [];
  let alert: string | undefined;
  for (const line of readFileSync(RULES, 'utf8').split('\n')) {
    const a = /^\s*- alert: (\S+)/.exec(line);
    if (a) alert = a[1];
    const e = /^\s*expr: (.+)$/.exec(line);
    if (e && alert) out.push({ alert, expr: e[1]! });
  }
  return out;
}

describe('deploy/prometheus/infergate-alerts.yaml', () => {
  test('promtool check rules accepts it', () => {
    const r = spawnSync(promtool(), ['check', 'rules', RULES], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: 9 rules found/);
  });

  test('promtool test rules: each alert fires on its synthetic series, and not on those it must ignore', () => {
    const r = spawnSync(promtool(), ['test', 'rules', join(ROOT, 'test/fixtures/prometheus/infergate-alerts.test.yaml')], { encoding: 'utf8', cwd: ROOT });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
    // Every alert of the file is exercised there.
    const tested = readFileSync(join(ROOT, 'test/fixtures/prometheus/infergate-alerts.test.yaml'), 'utf8');
    for (const { alert } of rules()) assert.match(tested, new RegExp(`alertname: ${alert}\\n`), `${alert} has a promtool test`);
  });

  describe('on a running gateway', () => {
    let fleet: Fleet;
    let cfg: TempConfig;
    let gw: RunningGateway;
    before(async () => {
      fleet = await startFleet(144, [{ name: 'pod-0', labels: {}, model: 'base', ttftMs: 1, itlMs: 1 }]);
      cfg = await tempConfig({ 'all.yaml': [poolYaml('pool', { app: 'p' }, fleet.port), prefixRouteYaml('route', '/v1/', 'pool'), podYaml('pod-0', fleet.ipOf('pod-0'), { app: 'p' })].join('---\n') });
      gw = await startTestGateway(cfg.dir, { host: '127.0.144.1', adminHost: '127.0.144.1' });
    });
    after(async () => {
      await gw?.close();
      await fleet?.close();
      await cfg?.remove();
    });

    test('every metric name the rules read is on its /metrics', async () => {
      const types = exposedTypes(await (await fetch(`${gw.adminUrl}/metrics`)).text());
      const all = rules();
      assert.equal(all.length, 9);
      const missing = all.flatMap((r) => metricNames(r.expr).filter((n) => !exposes(types, n)).map((n) => `${n} (${r.alert})`));
      assert.deepEqual(missing, [], 'metric names the alerts read that /metrics does not serve');
    });
  });
});
