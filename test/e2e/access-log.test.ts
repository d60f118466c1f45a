/** The access log (issue #11): one JSON line per request with where it went and how it ended; no body, no credential. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { AccessLogLine } from '../../src/observability/access-log.js';
import { startCli } from '../helpers/cli-process.js';
import { repoRoot } from '../helpers/local-kube.js';
import { baseModelRouteYaml, podYaml, poolYaml, prefixRouteYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet } from '../helpers/fleet.js';
import { onePerEndpoint } from '../helpers/epp-configs.js';
import { withFleetGateway } from '../helpers/fleet-gateway.js';
import { startScriptedPod } from '../helpers/scripted-pod.js';

const BASE = 'google/gemma-2b-it';

test('--access-log FILE: a line per request, streamed and not, refused too; never the prompt or the API key', async () => {
  const fleet = await startFleet(76, [{ name: 'gemma-0', labels: {}, model: BASE, loras: ['sql-lora'], ttftMs: 1, itlMs: 1 }]);
  const cfg = await tempConfig({ 'all.yaml': [podYaml('gemma-0', fleet.ipOf('gemma-0'), { app: 'gemma' }), poolYaml('gemma', { app: 'gemma' }, fleet.port), prefixRouteYaml('all', '/v1/', 'gemma')].join('---\n') });
  const file = join(cfg.dir, 'access.jsonl');
  const gw = await startTestGateway(cfg.dir, { accessLog: { file } });
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-secret-key-123', maxRetries: 0 });
    await client.chat.completions.create({ model: 'sql-lora', messages: [{ role: 'user', content: 'SECRET PROMPT' }], max_tokens: 3 }, { headers: { 'x-request-id': 'plain', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    const stream = await client.chat.completions.create({ model: BASE, messages: [{ role: 'user', content: 'SECRET PROMPT' }], max_tokens: 4, stream: true, stream_options: { include_usage: true } }, { headers: { 'x-request-id': 'streamed' } });
    for await (const _ of stream) void _;
    await assert.rejects(client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-request-id': 'refused' } }));
  } finally {
    await gw.close();
    await fleet.close();
  }
  try {
    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes('SECRET PROMPT') && !text.includes('sk-secret-key-123'), text);
    const lines = new Map(text.trim().split('\n').map((l) => JSON.parse(l) as AccessLogLine).map((l) => [l.request_id, l]));
    const plain = lines.get('plain')!;
    assert.equal(plain.trace_id, '0af7651916cd43dd8448eb211c80319c', "tracing off: the client's trace");
    assert.equal(lines.get('streamed')!.trace_id, null, 'no traceparent, no tracing: no trace');
    assert.equal(plain.model, 'sql-lora');
    assert.equal(plain.base_model, BASE);
    assert.equal(plain.pool, 'default/gemma');
    assert.equal(plain.endpoint, `${fleet.ipOf('gemma-0')}:${fleet.port}`);
    assert.equal(plain.status, 200);
    assert.equal(plain.stream, false);
    assert.equal(plain.ttft_ms, null);
    assert.equal(plain.output_tokens, 3);
    assert.ok(plain.input_tokens! > 0);
    const streamed = lines.get('streamed')!;
    assert.equal(streamed.stream, true);
    assert.ok(streamed.ttft_ms! > 0 && streamed.ttft_ms! <= streamed.duration_ms, JSON.stringify(streamed));
    assert.equal(streamed.output_tokens, 4);
    const refused = lines.get('refused')!;
    assert.equal(refused.status, 404);
    assert.equal(refused.error_code, 'model_not_found');
    assert.equal(refused.endpoint, null);
    assert.equal(refused.attempts, 0);
  } finally {
    await cfg.remove();
  }
});

test('serve --access-log FILE: SIGHUP reopens the file (log rotation by rename); the gateway serves on', async () => {
  const fleet = await startFleet(143, [{ name: 'gemma-0', labels: {}, model: BASE, ttftMs: 1, itlMs: 1 }]);
  const cfg = await tempConfig({ 'all.yaml': [podYaml('gemma-0', fleet.ipOf('gemma-0'), { app: 'gemma' }), poolYaml('gemma', { app: 'gemma' }, fleet.port), prefixRouteYaml('all', '/v1/', 'gemma')].join('---\n') });
  const file = join(cfg.dir, 'access.jsonl');
  const cli = await startCli(['serve', '-f', cfg.dir, '--host', '127.0.143.200', '--port', '0', '--admin-port', '0', '--shutdown-delay', '0s', '--access-log', file], /infergate listening on http:\/\//);
  const ids = async (f: string): Promise<string[]> =>
    (await readFile(f, 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as AccessLogLine).request_id);
  try {
    const url = /listening on (http:\/\/\S+)/.exec(await cli.line(/listening on/))![1]!;
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await client.chat.completions.create({ model: BASE, messages: [{ role: 'user', content: 'x' }], max_tokens: 2 }, { headers: { 'x-request-id': 'before-rotation' } });
    assert.ok(await waitFor(async () => (await ids(file)).includes('before-rotation')), 'the first line is written');
    await rename(file, `${file}.1`);
    cli.kill('SIGHUP');
    await cli.line(/SIGHUP received: access log reopened/);
    await client.chat.completions.create({ model: BASE, messages: [{ role: 'user', content: 'x' }], max_tokens: 2 }, { headers: { 'x-request-id': 'after-rotation' } });
    cli.kill('SIGTERM');
    assert.equal((await cli.exited).code, 0, 'SIGHUP did not end it; SIGTERM stopped it cleanly');
    assert.deepEqual(await ids(`${file}.1`), ['before-rotation']);
    assert.deepEqual(await ids(file), ['after-rotation']);
  } finally {
    cli.kill('SIGKILL');
    await fleet.close();
    await cfg.remove();
  }
});

test('serve --access-log FILE: a path that cannot be opened stops the start in one line; a SIGHUP with the directory gone is logged, and the gateway serves on', async () => {
  const fleet = await startFleet(228, [{ name: 'gemma-0', labels: {}, model: BASE, ttftMs: 1, itlMs: 1 }]);
  const cfg = await tempConfig({ 'all.yaml': [podYaml('gemma-0', fleet.ipOf('gemma-0'), { app: 'gemma' }), poolYaml('gemma', { app: 'gemma' }, fleet.port), prefixRouteYaml('all', '/v1/', 'gemma')].join('---\n') });
  const missing = join(cfg.dir, 'no-such-dir', 'access.jsonl');
  // Run to its end (stderr read whole): it must stop at once, in one line, not with an uncaught error event.
  const refused = await new Promise<{ code: number | null; err: string }>((resolve) => {
    execFile(process.execPath, [join(repoRoot(), 'dist/src/cli/main.js'), 'serve', '-f', cfg.dir, '--host', '127.0.228.200', '--port', '0', '--admin-port', '0', '--access-log', missing], { timeout: 20_000 }, (e, _out, err) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? null) : 0, err }),
    );
  });
  assert.equal(refused.code, 1, refused.err);
  assert.equal(refused.err.trim(), `error: --access-log ${missing}: cannot open the file for appending (ENOENT); give a file in a directory that exists and this process may write to, or stdout, or off`);
  const logs = join(cfg.dir, 'logs');
  await mkdir(logs);
  const file = join(logs, 'access.jsonl');
  const cli = await startCli(['serve', '-f', cfg.dir, '--host', '127.0.228.200', '--port', '0', '--admin-port', '0', '--shutdown-delay', '0s', '--access-log', file], /infergate listening on http:\/\//);
  try {
    const url = /listening on (http:\/\/\S+)/.exec(await cli.line(/listening on/))![1]!;
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
    // The directory is moved away: the path names nothing, and a reopen cannot open it.
    await rename(logs, `${logs}.old`);
    cli.kill('SIGHUP');
    assert.match(await cli.line(/SIGHUP received/), /ERROR .*the access log could not be reopened; lines still go to the file open before .*ENOENT/);
    await client.chat.completions.create({ model: BASE, messages: [{ role: 'user', content: 'x' }], max_tokens: 2 }, { headers: { 'x-request-id': 'after-failed-reopen' } });
    cli.kill('SIGTERM');
    assert.equal((await cli.exited).code, 0, 'the gateway served on and stopped cleanly');
    const lines = (await readFile(join(`${logs}.old`, 'access.jsonl'), 'utf8')).trim().split('\n');
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as AccessLogLine).request_id), ['after-failed-reopen']);
  } finally {
    cli.kill('SIGKILL');
    await fleet.close();
    await cfg.remove();
  }
});

test('serve --access-log stdout: a reader of stdout that goes away (EPIPE) costs the lines, said once, not the gateway', async () => {
  const fleet = await startFleet(228, [{ name: 'gemma-0', labels: {}, model: BASE, ttftMs: 1, itlMs: 1 }]);
  const cfg = await tempConfig({ 'all.yaml': [podYaml('gemma-0', fleet.ipOf('gemma-0'), { app: 'gemma' }), poolYaml('gemma', { app: 'gemma' }, fleet.port), prefixRouteYaml('all', '/v1/', 'gemma')].join('---\n') });
  // stdout is a pipe whose reading end is closed at once, as when `serve ... | shipper` loses its shipper.
  const child = spawn(process.execPath, [join(repoRoot(), 'dist/src/cli/main.js'), 'serve', '-f', cfg.dir, '--host', '127.0.228.201', '--port', '0', '--admin-port', '0', '--shutdown-delay', '0s', '--access-log', 'stdout'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (stderr += d));
  try {
    assert.ok(await waitFor(() => /listening on http:\/\//.test(stderr), 15_000), stderr);
    const url = /listening on (http:\/\/\S+)/.exec(stderr)![1]!;
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
    for (let i = 0; i < 3; i++) {
      await client.chat.completions.create({ model: BASE, messages: [{ role: 'user', content: 'x' }], max_tokens: 2 });
      // Past the 50 ms batch: each request's line is written, and fails, on its own.
      await new Promise((resolve) => setTimeout(resolve, 80));
    }
    assert.equal(child.exitCode, null, `the gateway is still running: ${stderr}`);
    assert.equal(stderr.match(/access log: stdout cannot be written/g)?.length, 1, stderr);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  } finally {
    child.kill('SIGKILL');
    await fleet.close();
    await cfg.remove();
  }
});

test('a client that leaves while its request waits in a flow-control queue: its line says client_gone, not a request with no status and no reason', async () => {
  const model = 'model/fc';
  const replicas = [{ name: 'p0', labels: {}, model, ttftMs: 0, itlMs: 20, maxNumSeqs: 1 }];
  const docs = (fleet: Fleet): string[] => [podYaml('p0', fleet.ipOf('p0'), { app: 'fc' }), poolYaml('pool', { app: 'fc' }, fleet.port), baseModelRouteYaml('r', model, [['pool', 1]])];
  const dir = await mkdtemp(join(tmpdir(), 'infergate-access-fc-'));
  const file = join(dir, 'access.jsonl');
  try {
    await withFleetGateway(229, replicas, docs, async ({ gw, client }) => {
      const queued = async (): Promise<number> => ((await (await fetch(`${gw.adminUrl}/debug/flow-control`)).json()) as { pools: { queued: number; inFlight: number }[] }).pools[0]?.queued ?? 0;
      // One request at a time: a long one holds the slot, the next one waits.
      const hold = client.completions.create({ model, prompt: 'hold', max_tokens: 40 }, { headers: { 'x-request-id': 'hold' } });
      assert.ok(await waitFor(async () => ((await (await fetch(`${gw.adminUrl}/debug/flow-control`)).json()) as { pools: { inFlight: number }[] }).pools[0]?.inFlight === 1, 3000), 'the slot is held');
      const abort = new AbortController();
      const gone = client.completions.create({ model, prompt: 'gone', max_tokens: 1 }, { headers: { 'x-request-id': 'gone' }, signal: abort.signal }).catch((e: unknown) => e);
      assert.ok(await waitFor(async () => (await queued()) === 1, 3000), 'queued');
      abort.abort();
      await gone;
      assert.ok(await waitFor(async () => (await queued()) === 0, 3000), 'it left its queue');
      await hold;
    }, { eppConfig: { text: onePerEndpoint('defaultRequestTTL: 30s'), file: 'flow-control.yaml' }, accessLog: { file } });
    const lines = new Map((await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as AccessLogLine).map((l) => [l.request_id, l]));
    const gone = lines.get('gone');
    assert.ok(gone, 'the request that left has its line');
    assert.equal(gone.client_gone, true, JSON.stringify(gone));
    assert.equal(gone.status, null);
    assert.equal(gone.error_code, null);
    assert.equal(lines.get('hold')?.status, 200);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a stream the pod cuts after its headers: the access log, the error counter and the dashboard say upstream_unavailable, not a plain 200', async () => {
  // A pod that answers each chat request with headers and one token event and drops the connection.
  const pod = await startScriptedPod({
    host: '127.0.231.2',
    model: BASE,
    paths: {
      '/v1/chat/completions': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n');
        setTimeout(() => res.socket?.destroy(), 30);
      },
    },
  });
  const cfg = await tempConfig({ 'all.yaml': [podYaml('cut-0', pod.host, { app: 'cut' }), poolYaml('cut', { app: 'cut' }, pod.port), prefixRouteYaml('all', '/v1/', 'cut')].join('---\n') });
  const file = join(cfg.dir, 'access.jsonl');
  const gw = await startTestGateway(cfg.dir, { accessLog: { file } });
  try {
    assert.ok(await waitFor(async () => (await fetch(`${gw.url}/v1/models`).then((r) => r.json() as Promise<{ data: unknown[] }>)).data.length > 0), 'the model is discovered');
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'cut' }, body: JSON.stringify({ model: BASE, messages: [{ role: 'user', content: 'x' }], stream: true }) });
    assert.equal(res.status, 200, 'the headers went out before the cut');
    await assert.rejects(res.text(), 'the client sees the connection cut');
    const metrics = async (): Promise<string> => (await fetch(`${gw.adminUrl}/metrics`)).text();
    // The pod began its answer and broke it off: the pod's failure, llm-d's ModelServerError (docs/metrics.md).
    assert.ok(await waitFor(async () => /llm_d_epp_request_error_total\{[^}]*error_code="ModelServerError"[^}]*\} 1/.test(await metrics())), 'counted as the model server\'s error');
    const state = (await (await fetch(`${gw.adminUrl}/api/state`)).json()) as { traffic: { lastMinute: { errorCodes: [string, number][] } } };
    assert.deepEqual(state.traffic.lastMinute.errorCodes, [['upstream_unavailable', 1]], 'the dashboard counts it');
  } finally {
    await gw.close();
    await pod.close();
  }
  try {
    const line = JSON.parse((await readFile(file, 'utf8')).trim().split('\n').find((l) => l.includes('"cut"'))!) as AccessLogLine;
    assert.equal(line.status, 200);
    assert.equal(line.error_code, 'upstream_unavailable');
    assert.equal(line.client_gone, false);
  } finally {
    await cfg.remove();
  }
});

test('a model name of a megabyte: its 404 repeats 200 characters of it, the access log, /metrics and the dashboard keep 256', async () => {
  const fleet = await startFleet(236, [{ name: 'gemma-0', labels: {}, model: BASE, ttftMs: 1, itlMs: 1 }]);
  const cfg = await tempConfig({ 'all.yaml': [podYaml('gemma-0', fleet.ipOf('gemma-0'), { app: 'gemma' }), poolYaml('gemma', { app: 'gemma' }, fleet.port), prefixRouteYaml('all', '/v1/', 'gemma')].join('---\n') });
  const file = join(cfg.dir, 'access.jsonl');
  const gw = await startTestGateway(cfg.dir, { accessLog: { file } });
  const model = `long-${'m'.repeat(1024 * 1024)}`;
  try {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'long' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }) });
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'model_not_found');
    // The body parser keeps at most 1 MiB of a string; the message says how long the name it read was.
    assert.match(body.error.message, new RegExp(`^model \`long-${'m'.repeat(195)}… \\(\\d+ characters\\)\` is not served here`));
    assert.ok(body.error.message.length < 4096, `message of ${body.error.message.length} characters`);
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    const label = /llm_d_epp_request_error_total\{[^}]*model_name="(long-m*…)"/.exec(metrics);
    assert.ok(label, 'the refusal is counted under the cut name');
    assert.equal(label[1]!.length, 257);
    assert.ok(metrics.length < 1024 * 1024, `/metrics is ${metrics.length} characters`);
  } finally {
    await gw.close();
    await fleet.close();
  }
  try {
    const line = (await readFile(file, 'utf8')).trim().split('\n').find((l) => l.includes('"long"'))!;
    assert.ok(line.length < 2048, `a line of ${line.length} characters`);
    assert.equal((JSON.parse(line) as AccessLogLine).model, `${model.slice(0, 256)}…`);
  } finally {
    await cfg.remove();
  }
});
