/**
 * Mounts the dashboard on the admin listener: `GET /` (the page), its script and style, and `GET /api/state`
 * (the JSON it polls every second). The page's files ship in the package (src/observability/dashboard/assets)
 * and load nothing from elsewhere: it works with no internet.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';
import type { AdminServer } from '../admin-server.js';
import { buildInfo } from '../metrics/info-metrics.js';
import { dashboardState, type DashboardSources } from './dashboard-state.js';
import { ProcessView } from './process-view.js';

/** Paths the dashboard answers on the admin listener. */
export const DASHBOARD_PATHS = { page: '/', script: '/dashboard/dashboard.js', style: '/dashboard/dashboard.css', state: '/api/state' } as const;

/**
 * The page runs only its own script and style and talks only to this listener; nothing else may load, and
 * no other site may frame it.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

interface Asset {
  type: string;
  body: Buffer;
}

/** Adds the dashboard's routes to `admin`. Reads the page's files once, now: a missing file fails at startup. */
export function mountDashboard(admin: Pick<AdminServer, 'route'>, dashboard: DashboardSources): void {
  const sources = { ...dashboard, version: dashboard.version ?? describeBuild(), process: dashboard.process ?? new ProcessView() };
  const dir = assetsDir();
  const asset = (file: string, type: string): Asset => ({ type, body: readFileSync(new URL(file, dir)) });
  const page = asset('index.html', 'text/html; charset=utf-8');
  const script = asset('dashboard.js', 'text/javascript; charset=utf-8');
  const style = asset('dashboard.css', 'text/css; charset=utf-8');
  admin.route(DASHBOARD_PATHS.page, (_req, res) => send(res, page));
  admin.route(DASHBOARD_PATHS.script, (_req, res) => send(res, script));
  admin.route(DASHBOARD_PATHS.style, (_req, res) => send(res, style));
  admin.route(DASHBOARD_PATHS.state, (_req, res, url) => {
    const q = url.searchParams;
    const state = dashboardState(sources, { ...num('windowS', q.get('window')), ...num('stepS', q.get('step')), ...num('decisions', q.get('decisions')) });
    send(res, { type: 'application/json', body: Buffer.from(JSON.stringify(state)) }, 'no-store');
  });
}

/**
 * Where the page's files are: beside this module when a build copies them, else in the package's src/ (the
 * compiled module is dist/src/observability/dashboard/, four levels below the package root; package.json
 * "files" ships src/observability/dashboard/assets).
 */
function assetsDir(): URL {
  const candidates = [new URL('./assets/', import.meta.url), new URL('../../../../src/observability/dashboard/assets/', import.meta.url)];
  const found = candidates.find((u) => existsSync(new URL('index.html', u)));
  if (!found) throw new Error(`the dashboard's files are missing (looked in ${candidates.map((u) => fileURLToPath(u)).join(' and ')}); reinstall infergate`);
  return found;
}

function describeBuild(): string {
  const b = buildInfo();
  return b.commit === 'unknown' ? b.buildRef : `${b.buildRef} (${b.commit.slice(0, 12)})`;
}

function send(res: ServerResponse, a: Asset, cache = 'no-cache'): void {
  res.writeHead(200, { 'content-type': a.type, 'content-length': a.body.length, 'cache-control': cache, ...SECURITY_HEADERS });
  res.end(a.body);
}

function num<K extends string>(key: K, v: string | null): Partial<Record<K, number>> {
  const n = v === null ? NaN : Number(v);
  return Number.isFinite(n) ? ({ [key]: n } as Partial<Record<K, number>>) : {};
}
