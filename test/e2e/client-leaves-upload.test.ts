/**
 * A client that closes its connection part way through sending a body (killed, or its SDK aborted the upload) is
 * gone, not malformed: the access log says `client_gone` with no error and no error is counted, as for a client that
 * leaves mid-stream. Node reports such a close as a parse error (HPE_INVALID_EOF_STATE), which was answered and
 * counted as `400 bad_request` for nobody to read. Octet 127.0.206.x.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';

const MODEL = 'upload/model';
const HOST = '127.0.206.1';

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway;
let logFile: string;

before(async () => {
  fleet = await startFleet(206, [{ name: 'pod-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 0 }]);
  cfg = await tempConfig({ 'all.yaml': [podYaml('pod-0', fleet.ipOf('pod-0'), { app: 'up' }), poolYaml('up', { app: 'up' }, fleet.port), baseModelRouteYaml('up', MODEL, [['up', 1]])].join('---\n') });
  logFile = join(cfg.dir, 'access.log');
  gw = await startTestGateway(cfg.dir, { host: HOST, adminHost: HOST, accessLog: { file: logFile } });
});

after(async () => {
  await gw?.close();
  await fleet?.close();
  await cfg?.remove();
});

/** The access log's lines so far, parsed. */
async function logLines(): Promise<{ request_id: string; status: number | null; error_code: string | null; client_gone: boolean }[]> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as never);
}

test('a client that closes its side mid-body is client_gone, and no error is counted', async () => {
  const s = connect({ host: HOST, port: gw.address.port, localAddress: '127.0.206.9' });
  s.on('error', () => undefined);
  await new Promise<void>((resolve) => s.once('connect', resolve));
  // Half of a declared body, then the client's FIN: what a killed client or an aborted upload sends.
  s.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Request-Id: left-mid-body\r\nContent-Length: 1000\r\n\r\n{"model":"${MODEL}",`);
  await new Promise((r) => setTimeout(r, 100));
  s.end();
  assert.ok(await waitFor(async () => (await logLines()).some((l) => l.request_id === 'left-mid-body'), 5000), 'the request is logged');
  const line = (await logLines()).find((l) => l.request_id === 'left-mid-body')!;
  assert.deepEqual({ status: line.status, error_code: line.error_code, client_gone: line.client_gone }, { status: null, error_code: null, client_gone: true });
  const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
  assert.doesNotMatch(metrics, /^llm_d_epp_request_error_total\{/m, 'no error counted');
  s.destroy();
});
