/**
 * The dashboard across a gateway restart, in a real headless browser: while the admin listener is down the page
 * must not keep showing the last answer as if it were current (a green "ready"), and once the gateway is back on
 * the same address it picks up the new process's numbers by itself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { chromiumPath } from '../helpers/chromium.js';
import { podYaml, poolYaml, startTestGateway, tempConfig, waitFor, type TempConfig } from '../helpers/fleet.js';

const HOST = '127.0.152.1';

let cfg: TempConfig;
let browser: Browser;
let adminPort: number;

/** A port free on HOST now, so that both runs of the gateway use the same admin address. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, HOST, resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

before(async () => {
  const executablePath = chromiumPath();
  cfg = await tempConfig({ 'pool.yaml': [poolYaml('p', { app: 'x' }, 8000), podYaml('x-0', '127.0.152.2', { app: 'x' })].join('---\n') });
  adminPort = await freePort();
  browser = await chromium.launch({ executablePath, headless: true });
});

after(async () => {
  await browser?.close();
  await cfg?.remove();
});

const start = (): Promise<RunningGateway> => startTestGateway(cfg.dir, { host: HOST, adminHost: HOST, adminPort });

async function badge(page: Page): Promise<string> {
  return (await page.locator('#ready').textContent()) ?? '';
}

test('while the gateway is down the page says it cannot tell, not "ready"; back up, it shows the new process', async () => {
  let gw: RunningGateway | undefined = await start();
  const page = await browser.newPage();
  try {
    await page.goto(`http://${HOST}:${adminPort}/`);
    await page.getByTestId('pool').first().waitFor({ timeout: 10_000 });
    assert.equal(await badge(page), 'ready');
    await gw.close();
    gw = undefined;
    // role=alert: a screen reader announces it as it appears.
    await page.getByRole('alert').filter({ hasText: /Cannot reach/ }).waitFor({ timeout: 10_000 });
    assert.notEqual(await badge(page), 'ready', 'the header still says ready while the gateway is unreachable');
    assert.match(await badge(page), /unreachable/);
    gw = await start();
    assert.ok(await waitFor(async () => (await badge(page)) === 'ready' && !(await page.locator('#banner').isVisible()), 10_000), 'the page came back by itself');
  } finally {
    await page.close();
    await gw?.close();
  }
});

test('a hidden tab stops asking the gateway for its state; shown again, it asks at once', async () => {
  const gw = await start();
  const page = await browser.newPage();
  let asked = 0;
  page.on('request', (r) => {
    if (r.url().includes('/api/state')) asked++;
  });
  // What a browser does when the tab goes to the background or comes back (headless Chromium has no tabs to switch).
  const setHidden = (hidden: boolean) =>
    page.evaluate(`(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${hidden} });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${hidden ? 'hidden' : 'visible'}' });
      document.dispatchEvent(new Event('visibilitychange'));
    })()`);
  try {
    await page.goto(`http://${HOST}:${adminPort}/`);
    await page.getByTestId('pool').first().waitFor({ timeout: 10_000 });
    assert.ok(await waitFor(() => asked >= 2, 10_000), 'a visible page polls every second');
    await setHidden(true);
    // The poll in flight when the tab was hidden may still end; none follows it.
    await new Promise((r) => setTimeout(r, 1500));
    const whileHidden = asked;
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(asked, whileHidden, 'no poll while hidden');
    await setHidden(false);
    assert.ok(await waitFor(() => asked > whileHidden, 2000), 'shown again, it polls at once');
    assert.ok(await waitFor(() => asked > whileHidden + 1, 5000), 'and keeps polling');
  } finally {
    await page.close();
    await gw.close();
  }
});
