/**
 * deploy/grafana/infergate-dashboard.json: every metric name its queries read is on a running gateway's
 * /metrics (histogram suffixes included), and the JSON is a dashboard Grafana imports (unique ids, a datasource
 * variable on every query, panels within the 24-column grid).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { podYaml, poolYaml, prefixRouteYaml, startFleet, startTestGateway, tempConfig, type Fleet, type TempConfig } from '../helpers/fleet.js';
import { exposedLabels, exposedTypes, exposes, labelNames, labelValuesMetric, metricNames } from '../helpers/promql-names.js';

const DASHBOARD = new URL('../../../deploy/grafana/infergate-dashboard.json', import.meta.url);

interface Target {
  expr: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid?: string };
  targets?: Target[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
}

async function dashboard(): Promise<Dashboard> {
  return JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;
}

/** Every query's text: the panels' targets and the template variables' label_values(), with the labels each reads. */
function queries(d: Dashboard): { where: string; names: string[]; labels: string[] }[] {
  const out: { where: string; names: string[]; labels: string[] }[] = [];
  for (const p of d.panels) for (const t of p.targets ?? []) out.push({ where: `panel "${p.title}": ${t.expr}`, names: metricNames(t.expr), labels: labelNames(t.expr) });
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : v.query.query;
    const metric = labelValuesMetric(q);
    assert.ok(metric, `variable ${v.name} is a label_values() query`);
    out.push({ where: `variable $${v.name}`, names: [metric], labels: [/,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/.exec(q)![1]!] });
  }
  return out;
}

describe('metric names in PromQL', () => {
  const cases: [string, string[]][] = [
    ['sum by (model_name) (rate(llm_d_epp_request_total{model_name=~"$model"}[$__rate_interval]))', ['llm_d_epp_request_total']],
    ['histogram_quantile(0.9, sum by (le) (rate(llm_d_epp_request_ttft_seconds_bucket{a="b{c}"}[5m])))', ['llm_d_epp_request_ttft_seconds_bucket']],
    ['sum(rate(x_errors_total[1m])) / on (pool) group_left (name) sum(y_total) or vector(0)', ['x_errors_total', 'y_total']],
    ['max(infergate_config_version) > bool 1e3 and up', ['infergate_config_version', 'up']],
  ];
  for (const [expr, want] of cases) test(expr, () => assert.deepEqual(metricNames(expr), want));
});

describe('deploy/grafana/infergate-dashboard.json', () => {
  let fleet: Fleet;
  let cfg: TempConfig;
  let gw: RunningGateway;

  before(async () => {
    fleet = await startFleet(75, [{ name: 'pod-0', labels: {}, model: 'base', loras: ['adapter'], ttftMs: 1, itlMs: 1 }]);
    cfg = await tempConfig({ 'all.yaml': [poolYaml('pool', { app: 'p' }, fleet.port), prefixRouteYaml('route', '/v1/', 'pool'), podYaml('pod-0', fleet.ipOf('pod-0'), { app: 'p' })].join('---\n') });
    gw = await startTestGateway(cfg.dir, { host: '127.0.75.1', adminPort: 0, adminHost: '127.0.75.1' });
  });

  after(async () => {
    await gw?.close();
    await fleet?.close();
    await cfg?.remove();
  });

  test('every metric name its queries read is on a running gateway\'s /metrics', async () => {
    // Some traffic first, though the families are declared before any (each has its # TYPE line).
    await fetch(`${gw.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'adapter', prompt: 'x', max_tokens: 2, stream: true }) }).then((r) => r.text());
    const res = await fetch(`${gw.adminUrl}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    const types = exposedTypes(text);
    const d = await dashboard();
    const all = queries(d);
    const names = new Set(all.flatMap((q) => q.names));
    assert.ok(names.size >= 20, `the dashboard reads ${names.size} metrics`);
    const missing = all.flatMap((q) => q.names.filter((n) => !exposes(types, n)).map((n) => `${n} (${q.where})`));
    assert.deepEqual(missing, [], 'metric names the dashboard reads that /metrics does not serve');
    for (const n of names) assert.match(n, /^(llm_d_epp_|infergate_|inference_|bbr_|process_|nodejs_)/, `${n}: the dashboard reads infergate's series and its process's only`);
    // The field's core signals are there.
    for (const n of ['llm_d_epp_request_total', 'llm_d_epp_request_error_total', 'llm_d_epp_request_ttft_seconds_bucket', 'llm_d_epp_request_streaming_itl_seconds_bucket', 'llm_d_epp_request_running', 'llm_d_epp_average_queue_size', 'llm_d_epp_average_kv_cache_utilization', 'llm_d_epp_ready_endpoints', 'llm_d_epp_scheduler_e2e_duration_seconds_bucket', 'infergate_upstream_failovers_total', 'infergate_upstream_responses_total']) {
      assert.ok(names.has(n), `the dashboard charts ${n}`);
    }
  });

  test('it imports into Grafana: unique panel ids, every query on the $datasource variable, panels inside the grid', async () => {
    const d = await dashboard();
    assert.equal(d.uid, 'infergate');
    assert.ok(d.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'));
    const ids = d.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const p of d.panels) {
      assert.ok(p.gridPos.x >= 0 && p.gridPos.x + p.gridPos.w <= 24, `panel "${p.title}" fits the 24-column grid`);
      if (p.type === 'row') continue;
      assert.equal(p.datasource?.uid, '${datasource}', `panel "${p.title}" uses $datasource`);
      assert.ok((p.targets ?? []).length > 0, `panel "${p.title}" has a query`);
      for (const t of p.targets ?? []) assert.equal(t.datasource?.uid, '${datasource}');
    }
  });
});

describe('deploy/grafana/infergate-dashboard.json: labels and selections', () => {
  let fleet: Fleet;
  let cfg: TempConfig;
  let gw: RunningGateway;

  before(async () => {
    fleet = await startFleet(177, [{ name: 'pod-0', labels: {}, model: 'base', loras: ['adapter'], ttftMs: 1, itlMs: 1 }]);
    cfg = await tempConfig({ 'all.yaml': [poolYaml('pool', { app: 'p' }, fleet.port), prefixRouteYaml('route', '/v1/', 'pool'), podYaml('pod-0', fleet.ipOf('pod-0'), { app: 'p' })].join('---\n') });
    gw = await startTestGateway(cfg.dir, { host: '127.0.177.1', adminPort: 0, adminHost: '127.0.177.1' });
  });

  after(async () => {
    await gw?.close();
    await fleet?.close();
    await cfg?.remove();
  });

  test('every label its queries select or group by is on the series they read', async () => {
    // A stream, so the request series (and their `streaming` label) have samples.
    await fetch(`${gw.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'adapter', prompt: 'x', max_tokens: 2, stream: true }) }).then((r) => r.text());
    const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    const labels = exposedLabels(text, exposedTypes(text));
    // Prometheus adds these to every series it scrapes.
    const target = new Set(['instance', 'job']);
    const wrong: string[] = [];
    let checked = 0;
    for (const q of queries(await dashboard())) {
      const found = q.names.map((n) => labels.get(n) ?? labels.get(n.replace(/_(bucket|sum|count)$/, '')));
      const families = found.filter((l) => l !== undefined);
      // Families with no sample yet (an external picker's, outlier ejections, GC pauses) cannot show their labels
      // here: a label none of the others carries may be theirs.
      const partial = families.length < found.length;
      if (families.length === 0) continue;
      checked++;
      for (const l of q.labels) if (!target.has(l) && !families.some((f) => f.has(l)) && !partial) wrong.push(`${l} (${q.where})`);
    }
    assert.ok(checked >= 30, `labels checked in ${checked} queries`);
    assert.deepEqual(wrong, [], 'labels the dashboard reads that its series do not carry');
  });

  test('time-to-first-token panels chart streams only: a whole answer\'s TTFT is its duration (streaming="false")', async () => {
    const ttft = queries(await dashboard()).filter((q) => q.names.includes('llm_d_epp_request_ttft_seconds_bucket'));
    assert.ok(ttft.length >= 4);
    for (const q of ttft) assert.match(q.where, /llm_d_epp_request_ttft_seconds_bucket\{[^}]*streaming="true"/, q.where);
  });

  test('the $pool variable (llm-d\'s pool name, or namespace/name when two namespaces share it) selects infergate\'s namespace/name pool label', async () => {
    const matchers = queries(await dashboard()).flatMap((q) => [...q.where.matchAll(/\bpool=~"([^"]*)"/g)].map((m) => m[1]!));
    assert.ok(matchers.length >= 10);
    // Grafana puts the value in as it is (one value), or as (a|b) for several.
    const cases: [string, string, boolean][] = [
      ['gemma', 'llm-d/gemma', true],
      ['llm-d/gemma', 'llm-d/gemma', true],
      ['(gemma|qwen)', 'default/qwen', true],
      ['.*', 'default/qwen', true],
      ['gemma', 'llm-d/gemma-2', false],
    ];
    for (const m of new Set(matchers)) {
      for (const [value, pool, want] of cases) assert.equal(new RegExp(`^(?:${m.replace('$pool', value)})$`).test(pool), want, `${m} with $pool=${value} on pool="${pool}"`);
    }
  });
});
