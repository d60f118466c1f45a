/**
 * The dashboard of a pool of hundreds of endpoints, in a real headless browser: every pod has its row, and the pool
 * says at a glance how many are in each state, so the few not serving need no hunt through the rows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser } from 'playwright-core';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { chromiumPath } from '../helpers/chromium.js';
import { podYaml, poolYaml, startFleet, startTestGateway, tempConfig, type Fleet, type TempConfig } from '../helpers/fleet.js';

const OCTET = 151;
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
/** Pods with nothing listening at their address (127.0.151.10 and up): never answer, so never serving. */
const SILENT = 240;

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway;
let browser: Browser;

before(async () => {
  const executablePath = chromiumPath();
  fleet = await startFleet(OCTET, [
    { name: 'up-0', labels: {}, model: MODEL, ttftMs: 1, itlMs: 1 },
    { name: 'up-1', labels: {}, model: MODEL, ttftMs: 1, itlMs: 1 },
  ]);
  const pods = [
    ...['up-0', 'up-1'].map((n) => podYaml(n, fleet.ipOf(n), { app: 'big' })),
    ...Array.from({ length: SILENT }, (_, i) => podYaml(`silent-${i}`, `127.0.${OCTET}.${10 + i}`, { app: 'big' })),
  ];
  cfg = await tempConfig({ 'big.yaml': [poolYaml('big', { app: 'big' }, fleet.port), ...pods].join('---\n') });
  gw = await startTestGateway(cfg.dir, { host: `127.0.${OCTET}.1`, adminHost: `127.0.${OCTET}.1` });
  browser = await chromium.launch({ executablePath, headless: true });
});

after(async () => {
  await browser?.close();
  await gw?.close();
  await fleet?.close();
  await cfg?.remove();
});

test('a pool of hundreds of endpoints lists every one and counts them by state', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  try {
    await page.goto(`${gw.adminUrl}/`);
    await page.locator('[data-testid=endpoint]').nth(SILENT + 1).waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('[data-testid=endpoint]').count(), SILENT + 2);
    const summary = page.getByTestId('pool-summary');
    await summary.filter({ hasText: /2 serving/ }).waitFor({ timeout: 15_000 });
    const text = (await summary.textContent()) ?? '';
    assert.match(text, new RegExp(`^${SILENT + 2} endpoints: 2 serving · `), text);
    // The rest are in whatever states pods that never answer are in now; together they are every silent pod.
    const others = [...text.matchAll(/(\d+) (?!serving)([a-z ]+?)(?= ·|$)/g)].reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(others, SILENT, text);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
