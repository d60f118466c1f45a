/**
 * A stream still in flight when `--drain-timeout` passes is cut by the gateway: its connection closes as a client's
 * hang-up does, and it was observed as one (`client_gone: true`, no error counted, no error in its trace), so an
 * SRE saw no trace of the requests a too-short drain cut. The access log, the error counter and the span now say
 * `shutting_down` (llm-d's `ServiceUnavailable`). Octet 127.0.29.x.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AccessLogLine } from '../../src/observability/access-log.js';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';

const MODEL = 'drain/model';
const HOST = '127.0.29.1';

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway | undefined;

before(async () => {
  // 100 ms a token: a stream of 100 tokens outlasts the drain timeout by far.
  fleet = await startFleet(29, [{ name: 'pod-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 100 }]);
  cfg = await tempConfig({ 'all.yaml': [podYaml('pod-0', fleet.ipOf('pod-0'), { app: 'd' }), poolYaml('d', { app: 'd' }, fleet.port), baseModelRouteYaml('d', MODEL, [['d', 1]])].join('---\n') });
});

after(async () => {
  await gw?.close().catch(() => undefined);
  await fleet?.close();
  await cfg?.remove();
});

test('a stream the drain timeout cuts is logged and counted as shutting_down, not as a client that left', async () => {
  const file = join(cfg.dir, 'access.jsonl');
  gw = await startTestGateway(cfg.dir, { host: HOST, adminHost: HOST, accessLog: { file } });
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'cut-by-drain' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 100, stream: true }),
  });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  // The stream is under way (its first event came) when the shutdown starts.
  assert.equal((await reader.read()).done, false);
  const reading = (async () => {
    try {
      for (let i = 0; i < 1000 && !(await reader.read()).done; i++);
      return 'ended';
    } catch {
      return 'cut';
    }
  })();
  const report = await gw.shutdown({ delayMs: 0, drainTimeoutMs: 200 });
  assert.equal(report.outcome, 'cut');
  assert.equal(await reading, 'cut', 'the client sees its stream cut');

  const lines = async (): Promise<AccessLogLine[]> => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AccessLogLine);
  assert.ok(await waitFor(async () => (await lines()).some((l) => l.request_id === 'cut-by-drain'), 5000), 'the request is logged');
  const line = (await lines()).find((l) => l.request_id === 'cut-by-drain')!;
  assert.deepEqual({ status: line.status, error_code: line.error_code, client_gone: line.client_gone }, { status: 200, error_code: 'shutting_down', client_gone: false }, JSON.stringify(line));

  const metrics = (await gw.metrics.render()).text;
  assert.match(metrics, /^llm_d_epp_request_error_total\{model_name="drain\/model",[^}]*error_code="ServiceUnavailable"\} 1$/m, 'counted as an error');
});
