import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AccessLog, accessLogLine, accessLogTarget, formatAccessLogLine, isoTime, jsonString } from './access-log.js';
import { newRequestRecord } from './request-record.js';

function record(id: string): ReturnType<typeof newRequestRecord> {
  const r = newRequestRecord(id, 'POST', '/v1/chat/completions', '127.0.0.9');
  Object.assign(r, { model: 'sql-lora', baseModel: 'base', targetModel: 'sql-lora-v2', pool: 'default/p', endpoint: '127.0.0.2:8000', attempts: 2, stream: true, status: 200, usage: { promptTokens: 10, completionTokens: 3 } });
  r.firstTokenAt = r.startedAt + 12.34;
  r.endedAt = r.startedAt + 50;
  return r;
}

test('accessLogLine: every field, times from the request start, nothing else', () => {
  const line = accessLogLine(record('req-1'));
  assert.deepEqual(Object.keys(line), ['time', 'request_id', 'trace_id', 'client', 'tenant', 'method', 'path', 'model', 'base_model', 'target_model', 'pool', 'endpoint', 'attempts', 'status', 'error_code', 'stream', 'ttft_ms', 'duration_ms', 'input_tokens', 'output_tokens', 'client_gone']);
  assert.equal(line.ttft_ms, 12.3);
  assert.equal(line.duration_ms, 50);
  assert.equal(line.input_tokens, 10);
  assert.equal(line.error_code, null);
  assert.equal(line.tenant, null, 'no API keys: no tenant');
  const refused = newRequestRecord('req-2', 'GET', '/v1/nope', undefined);
  refused.endedAt = refused.startedAt + 1;
  Object.assign(refused, { status: 404, errorCode: 'route_not_found' });
  const l2 = accessLogLine(refused);
  assert.equal(l2.model, null);
  assert.equal(l2.ttft_ms, null);
  assert.equal(l2.error_code, 'route_not_found');
});

test('the written line is exactly JSON.stringify of accessLogLine, odd strings and missing fields included', () => {
  const odd = newRequestRecord('id "quoted" \\ \u0001', 'POST', '/v1/é/"x"\n', undefined);
  Object.assign(odd, { model: 'm\u2028odel', pool: 'ns/p', attempts: 0, clientGone: true, errorCode: 'upstream_timeout' });
  const bare = newRequestRecord('req-3', 'GET', '/healthz', '::1');
  const started = newRequestRecord('req-4', 'POST', '/v1/completions', '10.0.0.1');
  started.endedAt = started.startedAt + 0.04;
  started.usage = { promptTokens: 0, completionTokens: 7 };
  const keyed = record('req-5');
  keyed.tenant = { name: 'team-a', priority: undefined, objective: undefined };
  assert.equal(accessLogLine(keyed).tenant, 'team-a');
  for (const r of [record('req-1'), odd, bare, started, keyed]) {
    const line = formatAccessLogLine(r);
    assert.equal(line, JSON.stringify(accessLogLine(r)));
    assert.doesNotThrow(() => JSON.parse(line));
  }
});

test("trace_id: tracing's trace when it set one, else a valid client traceparent's, else null", () => {
  const traced = record('t1');
  traced.traceId = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  traced.traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  assert.equal(accessLogLine(traced).trace_id, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'the span the gateway made names the trace');
  const untraced = record('t2');
  untraced.traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  assert.equal(accessLogLine(untraced).trace_id, '0af7651916cd43dd8448eb211c80319c', "tracing off: the client's trace");
  for (const bad of ['00-00000000000000000000000000000000-b7ad6b7169203331-01', '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01', 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01', 'not a traceparent']) {
    const r = record('t3');
    r.traceparent = bad;
    assert.equal(accessLogLine(r).trace_id, null, bad);
    assert.equal(formatAccessLogLine(r), JSON.stringify(accessLogLine(r)));
  }
  assert.equal(accessLogLine(record('t4')).trace_id, null);
  assert.equal(formatAccessLogLine(untraced), JSON.stringify(accessLogLine(untraced)));
});

test('--access-log values', () => {
  assert.equal(accessLogTarget(undefined), undefined);
  assert.equal(accessLogTarget('off'), undefined);
  assert.equal(accessLogTarget('stdout'), 'stdout');
  assert.deepEqual(accessLogTarget('/var/log/x.jsonl'), { file: '/var/log/x.jsonl' });
});

test('a file log gets one JSON line per request, appended, written in batches and on close', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-access-'));
  try {
    const file = join(dir, 'access.jsonl');
    const log = new AccessLog({ file });
    for (let i = 0; i < 3; i++) log.ended(record(`r${i}`));
    await log.close();
    const again = new AccessLog({ file });
    again.ended(record('r3'));
    await again.close();
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { request_id: string });
    assert.deepEqual(lines.map((l) => l.request_id), ['r0', 'r1', 'r2', 'r3']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('lines in order across batches: many lines, non-ASCII ones, and one larger than a batch written alone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-access-'));
  try {
    const file = join(dir, 'access.jsonl');
    const log = new AccessLog({ file });
    const ids: string[] = [];
    for (let i = 0; i < 600; i++) {
      const id = i === 300 ? `huge-${'é'.repeat(40_000)}` : `r${i}-é€😀`;
      ids.push(id);
      log.ended(record(id));
    }
    await log.close();
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { request_id: string });
    assert.deepEqual(lines.map((l) => l.request_id), ids);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('reopen: a log renamed away (logrotate) goes on in a new file at the path; no line lost between the two', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-access-'));
  try {
    const file = join(dir, 'access.jsonl');
    const log = new AccessLog({ file });
    log.ended(record('before-1'));
    log.ended(record('before-2'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await rename(file, `${file}.1`);
    // A line gathered but not yet written when the signal comes goes to the file it was gathered for.
    log.ended(record('gathered'));
    await log.reopen();
    log.ended(record('after'));
    await log.close();
    const ids = async (f: string): Promise<string[]> => (await readFile(f, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { request_id: string }).request_id);
    assert.deepEqual(await ids(`${file}.1`), ['before-1', 'before-2', 'gathered']);
    assert.deepEqual(await ids(file), ['after']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('jsonString is JSON.stringify for strings: plain ones quoted as they are, the rest escaped by JSON.stringify', () => {
  const cases = ['', 'abc', '0f6c2a9e-1b2c-4d5e-8f90-123456789abc', '/v1/chat/completions', 'a"b', 'a\\b', 'tab\there', 'nl\n', '\u0000', '\u001f', ' ~\u007f', 'é€😀', '\ud800', 'x\udfff', '\u2028\u2029'];
  for (const c of cases) assert.equal(jsonString(c), JSON.stringify(c), JSON.stringify(c));
});

test('isoTime is toISOString: across seconds, in any order, before 1970, past year 9999 and for fractions', () => {
  const times: number[] = [];
  for (let t = 1_765_000_000_000 - 2_500; t < 1_765_000_000_000 + 2_500; t += 7) times.push(t);
  times.push(0, 999, 1000, -1, -999, -1000, -1001, 253_402_300_799_999, 253_402_300_800_000, 1_765_000_000_000.5, 42);
  for (const t of [...times, ...times.reverse()]) assert.equal(isoTime(t), new Date(t).toISOString(), String(t));
});
