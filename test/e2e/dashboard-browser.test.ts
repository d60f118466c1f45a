/**
 * The dashboard in a real headless browser (Debian's chromium, driven by playwright-core) against a demo-like
 * fleet: simulated pods on 127.0.74.x, a gateway with its admin listener on. The page shows the pools and
 * endpoints, a request sent meanwhile appears, and the console stays clean. Set DASHBOARD_SCREENSHOT=PATH to
 * save a screenshot (docs/img/dashboard.png is made that way).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import OpenAI from 'openai';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { chromiumPath } from '../helpers/chromium.js';
import { allowlistYaml, baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, type Fleet, type TempConfig } from '../helpers/fleet.js';

const GEMMA = 'google/gemma-2-2b-it';
const PHI = 'microsoft/Phi-3-mini-4k-instruct';
const HOST = '127.0.74.1';

const NOT_WIRED = "the data plane must report each request to the gateway's RequestObserver (GatewayOptions.observer), which feeds the dashboard";

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway;
let browser: Browser;
let client: OpenAI;

before(async () => {
  // Fails here, naming the package, when Chromium is missing.
  const executablePath = chromiumPath();
  fleet = await startFleet(74, [
    { name: 'gemma-0', labels: { app: 'gemma' }, model: GEMMA, loras: ['gemma-sql-lora', 'gemma-chat-lora'], ttftMs: 5, itlMs: 5 },
    { name: 'gemma-1', labels: { app: 'gemma' }, model: GEMMA, loras: ['gemma-sql-lora', 'gemma-chat-lora'], ttftMs: 5, itlMs: 5 },
    { name: 'phi-0', labels: { app: 'phi' }, model: PHI, loras: ['phi-code-lora'], ttftMs: 10, itlMs: 5 },
    { name: 'phi-1', labels: { app: 'phi' }, model: PHI, loras: ['phi-code-lora'], ttftMs: 10, itlMs: 5 },
  ]);
  // As the demo: gemma's adapters come from an allowlist ConfigMap, phi's from its pods' GET /v1/models.
  const docs = [
    poolYaml('gemma-pool', { app: 'gemma' }, fleet.port),
    poolYaml('phi-pool', { app: 'phi' }, fleet.port),
    baseModelRouteYaml('gemma-route', GEMMA, [['gemma-pool', 1]]),
    baseModelRouteYaml('phi-route', PHI, [['phi-pool', 1]]),
    allowlistYaml('gemma-allowlist', GEMMA, ['gemma-sql-lora', 'gemma-chat-lora']),
    ...['gemma-0', 'gemma-1', 'phi-0', 'phi-1'].map((n) => podYaml(n, fleet.ipOf(n), { app: n.split('-')[0]! })),
  ];
  cfg = await tempConfig({ 'demo.yaml': docs.join('---\n') });
  gw = await startTestGateway(cfg.dir, { host: HOST, adminPort: 0, adminHost: HOST, debugDecisions: 20 });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  browser = await chromium.launch({ executablePath, headless: true });
});

after(async () => {
  await browser?.close();
  await gw?.close();
  await fleet?.close();
  await cfg?.remove();
});

/** Opens the dashboard and collects everything the page reports as an error. */
async function openDashboard(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  const res = await page.goto(`${gw.adminUrl}/`);
  assert.equal(res?.status(), 200);
  return { page, errors };
}

async function attributes(page: Page, selector: string, name: string): Promise<(string | null)[]> {
  return Promise.all((await page.locator(selector).all()).map((l) => l.getAttribute(name)));
}

/**
 * Polls the page's tile `testid` until it reads at least `n` (bounded: 5 s). From the test's side: the page's
 * CSP forbids eval, so Playwright's string predicates cannot run in it.
 */
async function waitForCount(page: Page, testid: string, n: number): Promise<boolean> {
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    if (Number(await text(page, testid)) >= n) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function text(page: Page, testid: string): Promise<string> {
  return (await page.getByTestId(testid).first().textContent()) ?? '';
}

test("the dashboard renders the demo's pools and endpoints, shows a request sent meanwhile, and logs no error", async () => {
  assert.ok(gw.adminUrl, 'the gateway started an admin listener');
  const { page, errors } = await openDashboard();
  try {
    // Pools and every endpoint, with where each model mapping came from.
    await page.locator('[data-testid=pool]').nth(1).waitFor({ timeout: 10_000 });
    assert.deepEqual(await attributes(page, '[data-testid=pool]', 'data-pool'), ['default/gemma-pool', 'default/phi-pool']);
    assert.deepEqual(await attributes(page, '[data-testid=endpoint]', 'data-pod'), ['default/gemma-0', 'default/gemma-1', 'default/phi-0', 'default/phi-1']);
    const gemma = (await page.locator('[data-pool="default/gemma-pool"]').textContent()) ?? '';
    assert.match(gemma, /gemma-sql-lora → google\/gemma-2-2b-it \(adapter; ConfigMap default\/gemma-allowlist\)/);
    assert.match(gemma, /serving/);
    assert.deepEqual(await page.getByTestId('picker').allTextContents(), ['picked by infergate', 'picked by infergate'], 'who picks each pool');
    const phi = (await page.locator('[data-pool="default/phi-pool"]').textContent()) ?? '';
    assert.match(phi, /phi-code-lora → microsoft\/Phi-3-mini-4k-instruct \(adapter; GET \/v1\/models \(parent\)\)/);
    assert.equal(await page.getByTestId('no-issues').count(), 1, 'the demo has no config issue');

    // A request sent now appears within a few polls: the count, the recent list, the decision with its scores.
    const before = Number(await text(page, 'total-requests'));
    const answer = await client.chat.completions.create({ model: 'gemma-sql-lora', messages: [{ role: 'user', content: 'dashboard test' }], max_tokens: 4 });
    assert.ok(answer.choices.length > 0);
    const seen = await waitForCount(page, 'total-requests', before + 1);
    assert.ok(seen, `the request did not appear on the dashboard within 5 s (requests since start still ${before}): ${NOT_WIRED}`);
    await page.getByTestId('recent-request').filter({ hasText: 'gemma-sql-lora' }).first().waitFor({ timeout: 3000 });
    await page.getByTestId('decision').filter({ hasText: 'gemma-sql-lora' }).first().waitFor({ timeout: 3000 });
    const decision = (await page.getByTestId('decision').first().textContent()) ?? '';
    assert.match(decision, /total/);

    // A little mixed traffic so the charts and the screenshot show something: streams, an unknown model.
    for (let i = 0; i < 6; i++) {
      const stream = await client.chat.completions.create({ model: i % 2 ? 'phi-code-lora' : GEMMA, messages: [{ role: 'user', content: `hello ${i}` }], max_tokens: 6, stream: true });
      for await (const _chunk of stream) {
        // drain
      }
    }
    await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }), OpenAI.NotFoundError);
    assert.ok(await waitForCount(page, 'total-requests', before + 8), 'the streams and the refused request are counted');
    assert.match(await text(page, 'errors-minute'), /^[1-9]/, 'the unknown model counts as an error');
    assert.notEqual(await text(page, 'ttft-p50'), '–', 'TTFT is charted');
    // The process: the request thread's busy share, CPU and memory, as the page polls them.
    assert.match(await text(page, 'thread-busy'), /^\d{1,3}%$/);
    assert.match(await text(page, 'cpu-cores'), /^\d+\.\d\d cores$/);
    assert.ok(Number((await text(page, 'rss')).replace(' MiB', '')) > 20, 'the resident memory in MiB');
    const shot = process.env.DASHBOARD_SCREENSHOT;
    if (shot) {
      await mkdir(dirname(shot), { recursive: true });
      await page.screenshot({ path: shot, fullPage: true });
    }
    assert.deepEqual(errors, [], 'no console error, failed request or error status while the page ran');
  } finally {
    await page.close();
  }
});

test('user-controlled names are shown as text, never run as markup', async () => {
  const { page, errors } = await openDashboard();
  try {
    const evil = '<img src=x onerror="window.__pwned=1">';
    await assert.rejects(client.chat.completions.create({ model: evil, messages: [{ role: 'user', content: 'x' }] }), OpenAI.NotFoundError);
    await page
      .getByTestId('recent-request')
      .filter({ hasText: evil })
      .first()
      .waitFor({ timeout: 5000 })
      .catch(() => assert.fail(`the refused request did not appear among the recent requests within 5 s: ${NOT_WIRED}`));
    assert.equal(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.locator('img').count(), 0, 'no element was built from the name');
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('a long model name in the recent requests scrolls within its table, not the whole page', async () => {
  const { page, errors } = await openDashboard();
  try {
    // The longest the table shows (recent-requests clips at 200 characters), one unbroken word.
    const long = `org/${'x'.repeat(196)}`;
    await assert.rejects(client.chat.completions.create({ model: long, messages: [{ role: 'user', content: 'x' }] }), OpenAI.NotFoundError);
    await page.getByTestId('recent-request').filter({ hasText: long }).first().waitFor({ timeout: 5000 });
    const { scrollWidth, clientWidth } = await page.locator('html').evaluate((el) => ({ scrollWidth: el.scrollWidth, clientWidth: el.clientWidth }));
    assert.ok(scrollWidth <= clientWidth, `the page is ${scrollWidth} px wide in a ${clientWidth} px window: it scrolls sideways, header and charts with it`);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('a screen reader finds each chart by its caption, the tables by their column headers, the window by its label', async () => {
  const { page, errors } = await openDashboard();
  try {
    await page.getByTestId('pool').first().waitFor({ timeout: 10_000 });
    for (const name of ['Requests per second', 'Errors per second', 'Time to first token (ms), p50 and p95']) {
      assert.equal(await page.getByRole('img', { name, exact: true }).count(), 1, `no chart named "${name}" (an svg role=img with no name is read as "image")`);
    }
    assert.equal(await page.getByRole('combobox', { name: /Window/ }).count(), 1);
    assert.ok((await page.getByRole('columnheader', { name: 'in flight' }).count()) >= 2, 'the endpoint tables have column headers');
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
