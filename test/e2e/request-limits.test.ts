/**
 * Issue #10, parts 3 and 4, end to end: bounded request parsing (deep and large JSON get 400 and the gateway
 * keeps serving, in `serve` and over ext_proc) and the client connection limits (request timeouts that never
 * cut a streamed response, connection caps, Node's own early rejections in OpenAI's shape). Pods on
 * 127.0.64.x; clients that need their own address connect from 127.0.65.x.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import OpenAI from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { ExtProcClient, requestBody, requestHeaders } from '../../src/extproc/ext-proc-client.js';
import type { ConnectionLimits } from '../../src/proxy/connection-limits.js';
import { startTestExtproc } from '../helpers/extproc.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';

const MODEL = 'limits/model';
/** Short, so the tests can outlast them; the streamed response below lasts longer than both. */
const TIMEOUTS = { requestHeadersTimeoutMs: 500, requestBodyTimeoutMs: 1000 };

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway;
let client: OpenAI;

before(async () => {
  // 100 ms per token: a 25-token stream lasts ~2.5 s, longer than both request timeouts.
  fleet = await startFleet(64, [{ name: 'pod-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 100 }]);
  cfg = await tempConfig({ 'all.yaml': [podYaml('pod-0', fleet.ipOf('pod-0'), { app: 'limits' }), poolYaml('limits', { app: 'limits' }, fleet.port), baseModelRouteYaml('limits', MODEL, [['limits', 1]])].join('---\n') });
  gw = await startTestGateway(cfg.dir, { connections: TIMEOUTS });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

after(async () => {
  await gw?.close();
  await fleet?.close();
  await cfg?.remove();
});

async function chatOk(c: OpenAI = client): Promise<void> {
  const r = await c.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 });
  assert.equal(r.model, MODEL);
}

interface RawAnswer {
  status: number;
  headers: string;
  json: { error?: { message: string; type: string; param: string | null; code: string } };
  /** The gateway closed the connection after answering. */
  closed: boolean;
}

/** Reads one HTTP answer from `socket` (a JSON body with content-length), and whether the gateway then closed it. */
function readAnswer(socket: Socket, timeoutMs = 5000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer in ${timeoutMs} ms; got ${JSON.stringify(data.toString().slice(0, 200))}`));
    }, timeoutMs);
    const parse = (closed: boolean): boolean => {
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const headers = text.slice(0, end);
      const length = Number(/content-length: *(\d+)/i.exec(headers)?.[1] ?? NaN);
      if (!closed && !(data.length - end - 4 >= length)) return false;
      clearTimeout(timer);
      resolve({ status: Number(headers.split(' ')[1]), headers, json: JSON.parse(data.subarray(end + 4, end + 4 + length).toString()) as RawAnswer['json'], closed });
      return true;
    };
    socket.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
    });
    // The error answers close the connection: wait for the close to know it did.
    socket.once('close', () => {
      if (!parse(true)) {
        clearTimeout(timer);
        reject(new Error(`closed without a complete answer: ${JSON.stringify(data.toString().slice(0, 200))}`));
      }
    });
    socket.on('error', () => undefined);
  });
}

function open(port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) }, () => resolve(s));
    s.once('error', reject);
  });
}

async function send(text: string | Buffer, port = gw.address.port): Promise<RawAnswer> {
  const s = await open(port);
  s.write(text);
  return readAnswer(s);
}

describe('bounded request parsing', () => {
  test('10,000-deep nesting: 400 invalid_json naming --max-json-depth, and the gateway still serves', async () => {
    const body = `{"model":"${MODEL}","messages":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, 400);
    const json = (await res.json()) as RawAnswer['json'];
    assert.equal(json.error?.code, 'invalid_json');
    assert.equal(json.error?.type, 'invalid_request_error');
    assert.match(json.error?.message ?? '', /more than 128 levels deep.*--max-json-depth 128/);
    await chatOk();
  });

  test('a 16 MiB body nested 8 million deep is refused as it arrives, and the gateway still serves', async () => {
    const half = 8 * 1024 * 1024 - 32;
    const body = Buffer.from(`{"model":"${MODEL}","messages":${'['.repeat(half)}${']'.repeat(half)}}`);
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as RawAnswer['json']).error?.message ?? '', /--max-json-depth/);
    await chatOk();
  });

  test('more values than --max-json-values: 400 invalid_json naming the flag', async () => {
    const small = await startTestGateway(cfg.dir, { jsonLimits: { maxValues: 1000 } });
    try {
      const body = JSON.stringify({ model: MODEL, prompt: Array.from({ length: 2000 }, (_, i) => i) });
      const res = await fetch(`${small.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(res.status, 400);
      const json = (await res.json()) as RawAnswer['json'];
      assert.equal(json.error?.code, 'invalid_json');
      assert.match(json.error?.message ?? '', /more than 1000 JSON values.*--max-json-values 1000/);
      // Under the limit, it passes.
      const ok = await fetch(`${small.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, prompt: ['a', 'b'], max_tokens: 1 }) });
      assert.equal(ok.status, 200, await ok.text());
    } finally {
      await small.close();
    }
  });

  test('a model with spaces is trimmed in the body sent upstream, the rest of the body byte for byte', async () => {
    const r = await client.completions.create({ model: ` ${MODEL} `, prompt: 'x', max_tokens: 1 });
    assert.equal(r.model, MODEL);
  });

  test('the ext_proc body-based router applies the same limits, refusing before the body ends', async () => {
    const xp = await startTestExtproc({ configPath: cfg.dir, jsonLimits: { maxDepth: 8 } });
    const ext = new ExtProcClient(`127.0.0.1:${xp.ports.bbr}`);
    try {
      const headers = { ':method': 'POST', ':path': '/v1/chat/completions', ':authority': 'gw', 'content-type': 'application/json' };
      const s = ext.open().send(requestHeaders(headers, false, { protocol: { request: 'FULL_DUPLEX_STREAMED' } }), requestBody(`{"model":"${MODEL}","messages":${'['.repeat(20)}`, false));
      const r = await s.next();
      const body = r.immediate_response?.body;
      assert.ok(body, JSON.stringify(r));
      const json = JSON.parse(body.toString()) as RawAnswer['json'];
      assert.equal(json.error?.code, 'invalid_json');
      assert.match(json.error?.message ?? '', /more than 8 levels deep.*--max-json-depth 8/);
      assert.equal(r.immediate_response?.details, 'infergate_invalid_json');
    } finally {
      ext.close();
      await xp.close();
    }
  });
});

describe("Node's early rejections, in OpenAI's error shape", () => {
  const cases: [string, string, number, string, RegExp][] = [
    ['two different content-lengths', 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', 400, 'bad_request', /malformed HTTP\/1.1 request: .*Content-Length.*\(HPE_/],
    ['the same content-length twice', 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello', 400, 'bad_request', /malformed HTTP\/1.1 request/],
    ['content-length with chunked', 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'bad_request', /malformed HTTP\/1.1 request: .*\(HPE_/],
    ['a 64 KiB header', `GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`, 431, 'request_header_too_large', /request headers are larger than the gateway accepts/],
    ['an unknown method', 'FOO /v1/models HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad_request', /malformed HTTP\/1.1 request: .*method/i],
  ];
  for (const [name, request, status, code, message] of cases) {
    test(`${name} -> ${status} ${code}`, async () => {
      const a = await send(request);
      assert.equal(a.status, status, a.headers);
      assert.match(a.headers, /content-type: application\/json/i);
      assert.equal(a.json.error?.code, code);
      assert.equal(a.json.error?.type, 'invalid_request_error');
      assert.equal(a.json.error?.param, null);
      assert.match(a.json.error?.message ?? '', message);
      assert.ok(a.closed, 'the connection is closed after the answer');
    });
  }

  test('the gateway keeps serving after them', () => chatOk());
});

describe('request timeouts', () => {
  test('a slow body (100 KB declared, a byte at a time) is cut after --request-body-timeout, while another connection is served', async () => {
    const s = await open(gw.address.port);
    const answer = readAnswer(s, 10_000);
    // Valid JSON as far as it goes (an open string), so only its pace is wrong.
    s.write(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"model":"${MODEL}","prompt":"`);
    let sent = 0;
    const trickle = setInterval(() => {
      // At most 50 bytes, 100 ms apart: the timeout (1 s) comes long before.
      if (s.destroyed || ++sent > 50) return clearInterval(trickle);
      s.write('a');
    }, 100);
    try {
      await chatOk();
      const a = await answer;
      assert.equal(a.status, 408);
      assert.equal(a.json.error?.code, 'request_timeout');
      assert.match(a.json.error?.message ?? '', /request body did not arrive within 1s .*--request-body-timeout/);
      assert.ok(a.closed);
      assert.ok(sent < 50, `the body was still being read after ${sent} bytes`);
    } finally {
      clearInterval(trickle);
      s.destroy();
    }
    await chatOk();
  });

  test('slow headers are cut after --request-headers-timeout', async () => {
    const s = await open(gw.address.port);
    const answer = readAnswer(s, 10_000);
    s.write('GET /v1/models HTTP/1.1\r\nHost: x\r\n');
    let sent = 0;
    const trickle = setInterval(() => {
      if (s.destroyed || ++sent > 50) return clearInterval(trickle);
      s.write(`X-Slow-${sent}: 1\r\n`);
    }, 100);
    try {
      const a = await answer;
      assert.equal(a.status, 408);
      assert.equal(a.json.error?.code, 'request_timeout');
      assert.match(a.json.error?.message ?? '', /request headers did not arrive within 500ms .*--request-headers-timeout/);
    } finally {
      clearInterval(trickle);
      s.destroy();
    }
  });

  test('a streamed response longer than both request timeouts is not cut', async () => {
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'tell me a story' }], max_tokens: 25, stream: true });
    let tokens = 0;
    let finish: string | null = null;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) tokens++;
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, 'length');
    // 25 tokens at the pod's 100 ms each: the response outlasted both request timeouts, and all of it arrived.
    assert.equal(tokens, 25);
  });

  test('an idle keep-alive connection is closed after --keep-alive-timeout', async () => {
    const g = await startTestGateway(cfg.dir, { connections: { keepAliveTimeoutMs: 200 } });
    try {
      const s = await open(g.address.port);
      const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
      s.on('data', () => undefined);
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.ok(await waitFor(() => s.destroyed || s.readableEnded, 5000), 'the idle connection was not closed');
      await closed;
    } finally {
      await g.close();
    }
  });
});

describe('connection limits', () => {
  /** Opens `n` connections, each proven counted by an answered request on it. */
  async function hold(port: number, n: number, localAddress?: string): Promise<Socket[]> {
    const out: Socket[] = [];
    for (let i = 0; i < n; i++) {
      const s = await open(port, localAddress);
      out.push(s);
      await new Promise<void>((resolve) => {
        s.once('data', () => resolve());
        s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      });
    }
    return out;
  }

  async function withGateway(connections: Partial<ConnectionLimits>, run: (g: RunningGateway) => Promise<void>): Promise<void> {
    const g = await startTestGateway(cfg.dir, { connections });
    try {
      await run(g);
    } finally {
      await g.close();
    }
  }

  test('over --max-connections a new connection gets 503 too_many_connections, and service resumes when some close', () =>
    withGateway({ maxConnections: 2 }, async (g) => {
      const held = await hold(g.address.port, 2);
      const a = await send('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: client-id-over-limit\r\n\r\n', g.address.port);
      assert.equal(a.status, 503);
      assert.equal(a.json.error?.code, 'too_many_connections');
      assert.equal(a.json.error?.type, 'server_error');
      assert.match(a.headers, /x-request-id: client-id-over-limit/i, "the client's request id, as on every other answer");
      assert.match(a.json.error?.message ?? '', /at its limit of 2 open client connections \(--max-connections\)/);
      assert.match(a.headers, /retry-after: 1/i);
      assert.ok(a.closed);
      for (const s of held) s.destroy();
      const c = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      assert.ok(
        await waitFor(async () => {
          try {
            await chatOk(c);
            return true;
          } catch {
            return false;
          }
        }),
        'service did not resume',
      );
    }));

  test('over --max-connections-per-client that client gets 503, another address is served', () =>
    withGateway({ maxConnectionsPerClient: 2 }, async (g) => {
      const held = await hold(g.address.port, 2, '127.0.65.10');
      try {
        const s = await open(g.address.port, '127.0.65.10');
        s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
        const a = await readAnswer(s);
        assert.equal(a.status, 503);
        assert.equal(a.json.error?.code, 'too_many_connections');
        assert.match(a.json.error?.message ?? '', /client 127\.0\.65\.10 is at the limit of 2 open connections per client address \(--max-connections-per-client\)/);
        const other = await open(g.address.port, '127.0.65.11');
        other.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        assert.equal((await readAnswer(other)).status, 200);
      } finally {
        for (const s of held) s.destroy();
      }
    }));
});
