/**
 * The edges of HTTP/1.1 a client can reach before the gateway's handler reads a request: Node's own early
 * rejections (counted, with an id), and the request ids clients send.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';

const MODEL = 'edges/model';
const HOST = '127.0.233.1';
const MAX_BODY = 64 * 1024;

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway;

before(async () => {
  fleet = await startFleet(233, [{ name: 'pod-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 0 }]);
  cfg = await tempConfig({ 'all.yaml': [podYaml('pod-0', fleet.ipOf('pod-0'), { app: 'edges' }), poolYaml('edges', { app: 'edges' }, fleet.port), baseModelRouteYaml('edges', MODEL, [['edges', 1]])].join('---\n') });
  gw = await startTestGateway(cfg.dir, { host: HOST, adminHost: HOST, maxBodyBytes: MAX_BODY, connections: { requestHeadersTimeoutMs: 300, requestBodyTimeoutMs: 600 } });
});

after(async () => {
  await gw?.close();
  await fleet?.close();
  await cfg?.remove();
});

interface RawAnswer {
  status: number;
  /** The status line and headers, as sent. */
  head: string;
  body: string;
  /** Every status line received, interim (100) ones first. */
  statusLines: string[];
}

/** Opens a connection, writes `parts` (each after `gapMs`), and reads until one final answer is whole or the gateway closes. */
async function exchange(parts: readonly (string | Buffer)[], gapMs = 0, timeoutMs = 5000): Promise<RawAnswer> {
  const s: Socket = await new Promise((resolve, reject) => {
    const c = connect({ host: HOST, port: gw.address.port, localAddress: '127.0.233.9' }, () => resolve(c));
    c.once('error', reject);
  });
  s.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no complete answer in ${timeoutMs} ms; got ${JSON.stringify(data.toString('latin1').slice(0, 300))}`));
    }, timeoutMs);
    const done = (a: RawAnswer): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(a);
    };
    const parse = (closed: boolean): void => {
      let text = data.toString('latin1');
      const statusLines: string[] = [];
      // Bounded: a connection carries a handful of interim answers at most.
      for (let i = 0; i < 8; i++) {
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = text.slice(0, end);
        statusLines.push(head.split('\r\n')[0]!);
        const status = Number(head.split(' ')[1]);
        if (status === 100) {
          text = text.slice(end + 4);
          continue;
        }
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
        const body = text.slice(end + 4);
        if (!closed && !(Buffer.byteLength(body, 'latin1') >= length)) return;
        return done({ status, head, body: body.slice(0, Number.isNaN(length) ? undefined : length), statusLines });
      }
    };
    s.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      parse(false);
    });
    s.once('close', () => parse(true));
    void (async () => {
      for (const p of parts) {
        if (s.destroyed) return;
        s.write(p);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    })();
  });
}

function headerOf(head: string, name: string): string | undefined {
  return new RegExp(`\\r\\n${name}: *([^\\r]*)`, 'i').exec(head)?.[1];
}

async function errorCount(code: string, model = ''): Promise<{ epp: number; objective: number }> {
  const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
  const sum = (family: string): number => {
    let n = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${family}{`) || !line.includes(`error_code="${code}"`)) continue;
      if (family === 'llm_d_epp_request_error_total' && !line.includes(`model_name="${model}"`)) continue;
      n += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return n;
  };
  return { epp: sum('llm_d_epp_request_error_total'), objective: sum('inference_objective_request_error_total') };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("Node's early rejections are counted and carry an x-request-id", () => {
  const cases: [name: string, parts: string[], gapMs: number, status: number, code: string][] = [
    ['a header over the limit', [`GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`], 0, 431, 'request_header_too_large'],
    ['content-length with chunked', ['POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'], 0, 400, 'bad_request'],
    ['slow headers', ['GET /v1/models HTTP/1.1\r\nHost: x\r\n', 'X-A: 1\r\n', 'X-B: 1\r\n', 'X-C: 1\r\n', 'X-D: 1\r\n', 'X-E: 1\r\n'], 200, 408, 'request_timeout'],
    ['a slow body', [`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":"${MODEL}","x":"`, 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'], 200, 408, 'request_timeout'],
  ];
  for (const [name, parts, gapMs, status, code] of cases) {
    test(`${name}: ${status} ${code}, counted as BadRequest with no model`, async () => {
      const before = await errorCount('BadRequest');
      const a = await exchange(parts, gapMs);
      assert.equal(a.status, status, a.head);
      assert.equal((JSON.parse(a.body) as { error: { code: string } }).error.code, code);
      assert.match(headerOf(a.head, 'x-request-id') ?? '', UUID, a.head);
      assert.ok(
        await waitFor(async () => {
          const now = await errorCount('BadRequest');
          return now.epp === before.epp + 1 && now.objective === before.objective + 1;
        }, 3000),
        `counted once in both error families: ${JSON.stringify([before, await errorCount('BadRequest')])}`,
      );
    });
  }

  test('GET /v1/models/{unknown} is counted as NotFound, as a chat request for that model is', async () => {
    const before = await errorCount('NotFound', 'no/such');
    const r = await fetch(`${gw.url}/v1/models/no%2Fsuch`);
    assert.equal(r.status, 404);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'model_not_found');
    assert.ok(await waitFor(async () => (await errorCount('NotFound', 'no/such')).epp === before.epp + 1, 3000));
    // A card served is not an error, and not counted as one.
    const ok = await fetch(`${gw.url}/v1/models/${encodeURIComponent(MODEL)}`);
    assert.equal(ok.status, 200);
    assert.equal((await errorCount('NotFound', MODEL)).epp, 0);
  });
});

describe('Expect', () => {
  const chat = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 });

  test('a declared body over --max-body-bytes gets 413 request_too_large instead of 100, and the connection closes', async () => {
    const a = await exchange([`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${MAX_BODY + 1}\r\nExpect: 100-continue\r\n\r\n`]);
    assert.deepEqual(a.statusLines, ['HTTP/1.1 413 Payload Too Large']);
    assert.equal((JSON.parse(a.body) as { error: { code: string } }).error.code, 'request_too_large');
    assert.match(headerOf(a.head, 'x-request-id') ?? '', UUID);
    assert.equal(headerOf(a.head, 'connection'), 'close');
  });

  test('a body that fits gets 100 Continue, then its answer', async () => {
    const a = await exchange([`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${chat.length}\r\nExpect: 100-continue\r\n\r\n`, chat], 200);
    assert.deepEqual(a.statusLines, ['HTTP/1.1 100 Continue', 'HTTP/1.1 200 OK']);
  });

  test('an unknown expectation is ignored and the request served, as vLLM does, not answered with a bare 417', async () => {
    const a = await exchange([`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${chat.length}\r\nExpect: something-else\r\n\r\n${chat}`]);
    assert.deepEqual(a.statusLines, ['HTTP/1.1 200 OK']);
    assert.match(headerOf(a.head, 'x-request-id') ?? '', UUID);
  });
});

describe('absolute-form request targets (RFC 9112 §3.2.2)', () => {
  test('POST http://host/v1/chat/completions is routed on its path and forwarded origin-form', async () => {
    const chat = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 });
    const a = await exchange([`POST http://example.com/v1/chat/completions HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json\r\nContent-Length: ${chat.length}\r\n\r\n${chat}`]);
    assert.equal(a.status, 200, a.body);
    assert.equal((JSON.parse(a.body) as { model: string }).model, MODEL);
  });

  test('GET http://host/v1/models?x=1 is the gateway\'s model list', async () => {
    const a = await exchange(['GET http://example.com/v1/models?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n']);
    assert.equal(a.status, 200, a.body);
    assert.deepEqual((JSON.parse(a.body) as { data: { id: string }[] }).data.map((m) => m.id), [MODEL]);
  });
});

describe('a compressed request body', () => {
  const chat = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 });
  const cases: [name: string, body: Buffer, type: string][] = [
    ['a small gzipped JSON body', gzipSync(chat), 'application/json'],
    ['a large gzipped JSON body (parsed as it arrives)', gzipSync(JSON.stringify({ model: MODEL, prompt: 'x'.repeat(40_000) }), { level: 0 }), 'application/json'],
    ['a gzipped multipart body', gzipSync('--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n--b--\r\n'), 'multipart/form-data; boundary=b'],
  ];
  for (const [name, body, type] of cases) {
    test(`${name}: 415 unsupported_content_encoding naming the header`, async () => {
      const r = await fetch(`${gw.url}/v1/completions`, { method: 'POST', headers: { 'content-type': type, 'content-encoding': 'gzip' }, body });
      const json = (await r.json()) as { error: { code: string; message: string } };
      assert.equal(r.status, 415, json.error.message);
      assert.equal(json.error.code, 'unsupported_content_encoding');
      assert.match(json.error.message, /Content-Encoding: gzip/);
    });
  }

  test('Content-Encoding: identity is served', async () => {
    const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'identity' }, body: chat });
    assert.equal(r.status, 200);
  });
});

describe("the client's X-Request-Id", () => {
  const cases: [name: string, headers: string, want: string | RegExp][] = [
    ['one', 'X-Request-Id: req-1\r\n', 'req-1'],
    ['two headers: the first', 'X-Request-Id: a\r\nX-Request-Id: b\r\n', 'a'],
    ['5,000 characters: replaced', `X-Request-Id: ${'i'.repeat(5000)}\r\n`, UUID],
    ['non-ASCII: replaced', 'X-Request-Id: caf\xe9\r\n', UUID],
  ];
  for (const [name, headers, want] of cases) {
    test(`${name} -> ${String(want)}`, async () => {
      const a = await exchange([Buffer.from(`GET /healthz HTTP/1.1\r\nHost: x\r\n${headers}\r\n`, 'latin1')]);
      assert.equal(a.status, 200);
      const id = headerOf(a.head, 'x-request-id') ?? '';
      if (typeof want === 'string') assert.equal(id, want);
      else assert.match(id, want);
    });
  }
});

describe('the wrong method on an inference path', () => {
  test('GET, PUT, DELETE and OPTIONS on /v1/chat/completions get 405 with Allow: POST, not a route_not_found about header matches', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'OPTIONS']) {
      const r = await fetch(`${gw.url}/v1/chat/completions`, { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.get('allow'), 'POST', method);
      assert.equal(r.headers.get('x-should-retry'), 'false', method);
      const body = (await r.json()) as { error: { code: string; message: string; type: string } };
      assert.equal(body.error.code, 'method_not_allowed', method);
      assert.equal(body.error.message, `${method} /v1/chat/completions is not served: /v1/chat/completions takes POST (with a JSON body naming the model)`);
    }
    const other = await fetch(`${gw.url}/v1/not-an-endpoint`);
    assert.equal(other.status, 404, 'a path vLLM does not serve is still a route_not_found');
  });
});
