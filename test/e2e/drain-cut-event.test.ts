/**
 * An event stream still open when `--drain-timeout` passes is told in-band why it ends before its connection is
 * cut: the openai client raises an APIError saying the gateway shut down (code `shutting_down`), where it saw only
 * a broken connection before. Octet 127.0.41.x (pods from .2, the gateway on .1).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { APIError } from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, type Fleet, type TempConfig } from '../helpers/fleet.js';

const MODEL = 'drain-event/model';
const HOST = '127.0.41.1';

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway | undefined;

before(async () => {
  // 100 ms a token: a stream of 100 tokens outlasts the drain timeout by far.
  fleet = await startFleet(41, [{ name: 'pod-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 100 }]);
  cfg = await tempConfig({ 'all.yaml': [podYaml('pod-0', fleet.ipOf('pod-0'), { app: 'e' }), poolYaml('e', { app: 'e' }, fleet.port), baseModelRouteYaml('e', MODEL, [['e', 1]])].join('---\n') });
});

after(async () => {
  await gw?.close().catch(() => undefined);
  await fleet?.close();
  await cfg?.remove();
});

test('a stream cut at the drain timeout ends with an error event the openai client raises', async () => {
  gw = await startTestGateway(cfg.dir, { host: HOST, adminHost: HOST });
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 100, stream: true });
  const it = stream[Symbol.asyncIterator]();
  // The stream is under way (its first chunk came) when the shutdown starts.
  assert.equal((await it.next()).done, false);
  const reading = (async () => {
    try {
      for (let i = 0; i < 1000 && !(await it.next()).done; i++);
      return undefined;
    } catch (e) {
      return e;
    }
  })();
  const report = await gw.shutdown({ delayMs: 0, drainTimeoutMs: 200 });
  assert.equal(report.outcome, 'cut');
  const err = await reading;
  assert.ok(err instanceof APIError, `an APIError, got ${String(err)}`);
  assert.match(err.message, /the gateway shut down before this stream ended: its drain timeout \(200ms, --drain-timeout\) passed/);
  assert.equal((err.error as { code?: string } | undefined)?.code, 'shutting_down');
});
