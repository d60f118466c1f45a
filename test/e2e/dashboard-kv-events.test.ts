/**
 * The dashboard of a pool that uses precise prefix routing, in a real headless browser: each endpoint's KV-event
 * stream (scored on its own events or on the approximate view, and why; the last message's age; the blocks the index
 * holds for it), which before only /metrics showed. One pod publishes its events; the other publishes none, so the
 * gateway cannot connect to it and scores it on the approximate view.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser } from 'playwright-core';
import { parseKvEventsConfig } from '../../src/sim/kv-events/kv-events-config.js';
import type { DashboardState } from '../../src/observability/dashboard/dashboard-state.js';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { chromiumPath } from '../helpers/chromium.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';
import { direct, preciseEppConfig, systemPrompt, viewOf } from '../helpers/kv-events.js';

const OCTET = 149;
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const PUB_PORT = 5557;

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway;
let browser: Browser;

const addressOf = (name: string): string => `${fleet.ipOf(name)}:${fleet.port}`;

before(async () => {
  const executablePath = chromiumPath();
  fleet = await startFleet(OCTET, [
    {
      name: 'p0',
      labels: {},
      model: MODEL,
      ttftMs: 1,
      itlMs: 1,
      kvCacheSize: 2048,
      blockSize: 16,
      kvEventsConfig: parseKvEventsConfig({ enable_kv_cache_events: true, publisher: 'zmq', endpoint: `tcp://*:${PUB_PORT}`, topic: `kv@127.0.${OCTET}.2:0@${MODEL}` }),
    },
    // Publishes nothing: its feed never connects.
    { name: 'p1', labels: {}, model: MODEL, ttftMs: 1, itlMs: 1 },
  ]);
  const docs = [...['p0', 'p1'].map((n) => podYaml(n, fleet.ipOf(n), { app: 'llama' })), poolYaml('llama', { app: 'llama' }, fleet.port), baseModelRouteYaml('llama', MODEL, [['llama', 1]])];
  cfg = await tempConfig({ 'all.yaml': docs.join('---\n') });
  gw = await startTestGateway(cfg.dir, { host: `127.0.${OCTET}.1`, adminHost: `127.0.${OCTET}.1`, eppConfig: { text: preciseEppConfig({ socketPort: PUB_PORT }), file: 'precise.yaml' } });
  assert.ok(await waitFor(() => viewOf(gw)?.feed(addressOf('p0')) !== undefined && !viewOf(gw)!.untrusted().has(addressOf('p0')), 20_000), 'the gateway trusts p0\'s stream');
  await direct(fleet.sims.get('p0')!, MODEL, systemPrompt('dashboard', 8), 'what is held?');
  assert.ok(await waitFor(() => viewOf(gw)!.index.heldBy(viewOf(gw)!.feed(addressOf('p0'))!.podId) >= 8, 10_000), 'p0\'s blocks reached the index');
  browser = await chromium.launch({ executablePath, headless: true });
});

after(async () => {
  await browser?.close();
  await gw?.close();
  await fleet?.close();
  await cfg?.remove();
});

test('/api/state tells, per pod of a precise-prefix pool, whether its KV events are trusted, why not, their age and its index entries', async () => {
  const state = async () => (await (await fetch(`${gw.adminUrl}/api/state`)).json()) as DashboardState;
  // The ingestion worker reports its per-pod counters on its own beat: the index can hold p0's blocks a beat
  // before the message count that brought them reaches the main thread.
  let st = await state();
  const p0Messages = (s: DashboardState) => s.pools[0]?.endpoints.find((e) => e.address === addressOf('p0'))?.kvEvents?.messages ?? 0;
  assert.ok(await waitFor(async () => p0Messages((st = await state())) > 0, 5_000), 'p0\'s message count reaches the state');
  const pool = st.pools[0]!;
  assert.ok(pool.kvEvents, 'the pool reads KV events');
  assert.equal(pool.kvEvents.ingestion, 'worker');
  assert.ok(pool.kvEvents.indexKeys >= 8);
  const [p0, p1] = [addressOf('p0'), addressOf('p1')].map((a) => pool.endpoints.find((e) => e.address === a)!.kvEvents!);
  assert.equal(p0!.scoring, 'precise');
  assert.equal(p0!.untrusted, null);
  assert.ok(p0!.messages > 0 && p0!.lastMessageAgeMs !== null && p0!.indexEntries >= 8, JSON.stringify(p0));
  assert.equal(p1!.scoring, 'approximate');
  assert.equal(p1!.untrusted, 'connecting');
  assert.equal(p1!.lastMessageAgeMs, null);
  assert.equal(p1!.indexEntries, 0);
});

test('the endpoint table has a KV events column for a precise-prefix pool, with no console error', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  try {
    await page.goto(`${gw.adminUrl}/`);
    await page.getByTestId('kv-events').nth(1).waitFor({ timeout: 10_000 });
    const headers = await page.locator('[data-testid=pool] th').allTextContents();
    assert.ok(headers.includes('KV events'), `headers: ${headers.join(', ')}`);
    const cell = async (pod: string): Promise<string> => (await page.locator(`[data-testid=endpoint][data-pod="default/${pod}"] [data-testid=kv-events]`).textContent()) ?? '';
    assert.match(await cell('p0'), /^precise.*last message [\d.]+ (ms|s|min) ago · \d+ blocks/);
    const p1 = await cell('p1');
    assert.match(p1, /^approximate: connecting/);
    assert.match(p1, /not connected yet/);
    assert.match(p1, /no message yet · 0 blocks/);
    assert.match((await page.getByTestId('kv-index').textContent()) ?? '', /precise prefix index: \d+ of \d+ keys · KV events ingested in a worker thread/);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
