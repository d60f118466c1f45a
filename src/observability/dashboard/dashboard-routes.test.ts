import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Script } from 'node:vm';
import { AdminServer } from '../admin-server.js';
import { DecisionLog } from '../decision-log.js';
import { createLogger } from '../../logger.js';
import { Datastore } from '../../epp/datastore/datastore.js';
import { PoolSchedulers } from '../../epp/pool-schedulers.js';
import { DashboardObserver } from './dashboard-observer.js';
import { DASHBOARD_PATHS, mountDashboard } from './dashboard-routes.js';

async function withAdmin(body: (url: string) => Promise<void>): Promise<void> {
  const admin = new AdminServer({ host: '127.0.75.1', port: 0, metrics: { renderBody: async () => ({ contentType: 'text/plain', body: [] }) }, log: createLogger('silent') });
  const gateway = { datastore: new Datastore(), schedulers: new PoolSchedulers(), state: undefined, shuttingDown: false, readiness: () => ({}) };
  mountDashboard(admin, { mode: 'serve', gateway, decisions: new DecisionLog(0), traffic: new DashboardObserver() });
  await admin.listen();
  try {
    await body(admin.url);
  } finally {
    await admin.close();
  }
}

test('GET / serves the page, which loads only its own files under a strict CSP', async () => {
  await withAdmin(async (url) => {
    const res = await fetch(`${url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/html/);
    const csp = res.headers.get('content-security-policy')!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    const html = await res.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(refs.sort(), ['dashboard/dashboard.css', 'dashboard/dashboard.js', 'data:,']);
    assert.ok(!/<script>/.test(html), 'no inline script');
  });
});

test('the script and the style are served, and the script is valid JavaScript that builds no markup from strings', async () => {
  await withAdmin(async (url) => {
    const js = await fetch(`${url}${DASHBOARD_PATHS.script}`);
    assert.match(js.headers.get('content-type')!, /^text\/javascript/);
    const source = await js.text();
    assert.doesNotThrow(() => new Script(source, { filename: 'dashboard.js' }));
    assert.ok(!/innerHTML|outerHTML|insertAdjacentHTML|document\.write/.test(source), 'values go in as text nodes only');
    const css = await fetch(`${url}${DASHBOARD_PATHS.style}`);
    assert.match(css.headers.get('content-type')!, /^text\/css/);
    assert.ok((await css.text()).length > 100);
  });
});

test('GET /api/state answers JSON, uncached, before any configuration is in force', async () => {
  await withAdmin(async (url) => {
    const res = await fetch(`${url}${DASHBOARD_PATHS.state}?window=60&step=bogus`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const st = (await res.json()) as { ready: boolean; configVersion: number | null; pools: unknown[]; traffic: { series: { t: unknown[] } } };
    assert.deepEqual([st.ready, st.configVersion, st.pools], [false, null, []]);
    assert.equal(st.traffic.series.t.length, 60);
    const head = await fetch(`${url}/`, { method: 'HEAD' });
    assert.equal(head.status, 200);
  });
});
