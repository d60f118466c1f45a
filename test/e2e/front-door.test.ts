/**
 * What a client meets at the standalone gateway's front door before any pod is asked: answers given while its
 * body is still on the way, and requests a browser or another API's SDK sends.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, type Fleet, type TempConfig } from '../helpers/fleet.js';

const MODEL = 'front/model';
const HOST = '127.0.217.1';
const MAX_BODY = 64 * 1024;

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway;

before(async () => {
  fleet = await startFleet(217, [{ name: 'pod-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 0 }]);
  cfg = await tempConfig({ 'all.yaml': [podYaml('pod-0', fleet.ipOf('pod-0'), { app: 'front' }), poolYaml('front', { app: 'front' }, fleet.port), baseModelRouteYaml('front', MODEL, [['front', 1]])].join('---\n') });
  gw = await startTestGateway(cfg.dir, { host: HOST, adminHost: HOST, maxBodyBytes: MAX_BODY });
});

after(async () => {
  await gw?.close();
  await fleet?.close();
  await cfg?.remove();
});

/** A connection that stays open for writing when the gateway closes its side, as an uploading client's does. */
async function halfOpen(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = connect({ host: HOST, port: gw.address.port, localAddress: '127.0.217.9', allowHalfOpen: true }, () => resolve(c));
    c.once('error', reject);
  });
}

/** Writes `data` and waits until the socket takes more (or closes: a drain never comes then). */
function send(s: Socket, data: string | Buffer): Promise<void> {
  return new Promise((r) => {
    if (s.write(data) || s.destroyed) return r();
    const go = (): void => {
      s.off('drain', go).off('close', go);
      r();
    };
    s.on('drain', go).on('close', go);
  });
}

/** What the client saw of the connection: the bytes read, and the error its writes met, if any. */
interface Upload {
  answer: string;
  ended: boolean;
  error: string | undefined;
}

/**
 * Sends `head`, then body bytes until the gateway's answer has ended (its FIN), then `after` more bytes, then
 * closes its side. Each write waits for the previous one to be taken, as an SDK's upload does.
 */
async function uploadPastAnswer(head: string, after: number): Promise<Upload> {
  const s = await halfOpen();
  const seen: Upload = { answer: '', ended: false, error: undefined };
  s.on('data', (d: Buffer) => (seen.answer += d.toString('latin1')));
  s.on('end', () => (seen.ended = true));
  s.on('error', (e: NodeJS.ErrnoException) => (seen.error ??= e.code ?? e.message));
  const closed = new Promise((r) => s.once('close', r));
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const write = (): Promise<void> => send(s, chunk);
  s.write(head);
  // Bounded: the answer comes at the headers; 4096 chunks (256 MiB) would be a gateway that never answers.
  for (let i = 0; i < 4096 && !seen.ended && !s.destroyed; i++) await write();
  for (let sent = 0; sent < after && !s.destroyed; sent += chunk.length) await write();
  s.end();
  await closed;
  return seen;
}

const declaredOver = (extra: string): string =>
  `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${1024 * 1024 * 1024}\r\n${extra}\r\n`;

describe('an answer given while the client is still uploading', () => {
  test('a 413 refused on a declared Content-Length reaches a client that keeps sending: the gateway reads on until it stops, no reset', async () => {
    for (const extra of ['', 'Expect: 100-continue\r\n']) {
      const u = await uploadPastAnswer(declaredOver(extra), 2 * 1024 * 1024);
      assert.match(u.answer, /^HTTP\/1\.1 413 /, extra);
      assert.match(u.answer, /"code":"request_too_large"/);
      assert.match(u.answer, /\r\nconnection: close\r\n/i);
      assert.equal(u.ended, true);
      assert.equal(u.error, undefined, `the client's writes after the answer were reset (${extra || 'no Expect'})`);
    }
  });

  test('a chunked body refused part way (over --max-body-bytes) gets its 413 and a clean close', async () => {
    const head = 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const s = await halfOpen();
    let answer = '';
    let error: string | undefined;
    let ended = false;
    s.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    s.on('end', () => (ended = true));
    s.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code));
    const closed = new Promise((r) => s.once('close', r));
    const piece = `10000\r\n${'a'.repeat(0x10000)}\r\n`;
    const start = '{"model":"x","a":"';
    s.write(`${head}${start.length.toString(16)}\r\n${start}\r\n`);
    // Bounded: the 413 comes past 64 KiB; after it, 32 more chunks (2 MiB) the gateway reads and drops.
    let after = 0;
    for (let i = 0; i < 4096 && after < 32 && !s.destroyed; i++) {
      if (ended) after++;
      await send(s, piece);
    }
    s.end();
    await closed;
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /\r\nconnection: close\r\n/i);
    assert.equal(error, undefined);
  });

  test('an error on a request with no body or a short one keeps the connection: the rest of a short body is read and dropped', async () => {
    const s = await halfOpen();
    let answer = '';
    s.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    s.on('error', () => undefined);
    const answers = (n: number): Promise<void> =>
      new Promise((r, reject) => {
        // Bounded: 200 polls of 10 ms; each answer is a few hundred bytes.
        let polls = 0;
        const check = (): void => {
          if ((answer.match(/HTTP\/1\.1 /g) ?? []).length >= n) return r();
          if (++polls > 200) return reject(new Error(`got ${answer}`));
          setTimeout(check, 10);
        };
        check();
      });
    s.write('GET /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n');
    await answers(1);
    // Refused on its headers (the gateway answers /v1/models itself) with 1990 of its 2000 bytes still to come.
    s.write(`POST /v1/models HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n${'a'.repeat(10)}`);
    await answers(2);
    s.write('a'.repeat(1990));
    s.write('GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n');
    await answers(3);
    s.destroy();
    assert.match(answer, /^HTTP\/1\.1 405 [^]*HTTP\/1\.1 405 /);
    assert.doesNotMatch(answer, /connection: close/i);
    assert.match(answer, /HTTP\/1\.1 200 OK/);
  });

  test('a client that goes on sending after the answer is cut: it cannot hold the connection', async () => {
    const s = await halfOpen();
    let answer = '';
    s.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    s.on('error', () => undefined);
    const closed = new Promise((r) => s.once('close', r));
    // A declared TiB: a quiet machine moves more than the 1 GiB declaredOver says within the 1 s linger, so a GiB
    // could all be taken before the cut, and the test would then say nothing about the cut.
    s.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${2 ** 40}\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    // Bounded in count (16 GiB) and in time (15 s); the gateway cuts the connection about 1 s after its answer.
    const until = Date.now() + 15_000;
    for (let i = 0; i < 262_144 && !s.destroyed && Date.now() < until; i++) await send(s, chunk);
    assert.ok(s.destroyed, 'the client was still sending after 15 s or 16 GiB: the connection was never cut');
    await closed;
    assert.match(answer, /^HTTP\/1\.1 413 /);
  });
});

describe('a JSON body that opens with a UTF-8 byte order mark', () => {
  test('is routed and served, as vLLM serves it (json.loads of the bytes reads utf-8-sig), not refused as invalid_json', async () => {
    const doc = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
    const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(doc)]) });
    const text = await r.text();
    assert.equal(r.status, 200, text);
    assert.equal((JSON.parse(text) as { model: string }).model, MODEL);
  });
});

describe("the Anthropic Messages API (/v1/messages, which vLLM serves): the gateway's errors in Anthropic's shape, as vLLM's are", () => {
  const messages = (model: string): string => JSON.stringify({ model, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
  const cases: [name: string, method: string, path: string, body: string | undefined, status: number, type: string][] = [
    ['an unknown model', 'POST', '/v1/messages', messages('no/such'), 404, 'not_found_error'],
    ['a body that is not JSON', 'POST', '/v1/messages?beta=true', '{"model":', 400, 'invalid_request_error'],
    ['no model', 'POST', '/v1/messages/count_tokens', '{"messages":[]}', 400, 'invalid_request_error'],
    ['GET, which it does not take', 'GET', '/v1/messages', undefined, 405, 'invalid_request_error'],
    ['a body over --max-body-bytes', 'POST', '/v1/messages', messages('x'.repeat(MAX_BODY)), 413, 'request_too_large'],
  ];
  for (const [name, method, path, body, status, type] of cases) {
    test(`${name}: ${status} ${type}`, async () => {
      const r = await fetch(`${gw.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body } : {}) });
      const answer = (await r.json()) as { type?: string; error?: { type?: string; message?: unknown } };
      assert.equal(r.status, status);
      assert.equal(answer.type, 'error');
      assert.equal(answer.error?.type, type);
      assert.equal(typeof answer.error?.message, 'string');
      assert.ok(r.headers.get('x-request-id'));
    });
  }

  test('an OpenAI path keeps the OpenAI shape', async () => {
    const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: messages('no/such') });
    assert.equal(r.status, 404);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'model_not_found');
  });
});

describe('CORS: a browser preflight is answered by the gateway, never routed (it names no model)', () => {
  const preflight = (url: string, origin: string, headers = 'content-type, authorization'): Promise<Response> =>
    fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': headers } });

  test('off by default: 403 cors_not_allowed naming --allowed-origins, not a 405 or a route_not_found', async () => {
    const r = await preflight(`${gw.url}/v1/chat/completions`, 'https://app.example.com');
    const body = (await r.json()) as { error: { code: string; message: string } };
    assert.equal(r.status, 403);
    assert.equal(body.error.code, 'cors_not_allowed');
    assert.match(body.error.message, /--allowed-origins/);
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    // A request that is not a preflight goes on as before, with no CORS header (the pod's vLLM default of * included).
    const chat = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { origin: 'https://app.example.com', 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }) });
    assert.equal(chat.status, 200);
    assert.equal(chat.headers.get('access-control-allow-origin'), null);
  });

  describe('with --allowed-origins', () => {
    let corsGw: RunningGateway;
    before(async () => {
      corsGw = await startTestGateway(cfg.dir, { host: HOST, adminHost: HOST, cors: { origins: ['https://app.example.com'], methods: ['POST', 'GET'], headers: ['authorization'], credentials: false } });
    });
    after(async () => {
      await corsGw?.close();
    });

    test("an allowed origin's preflight gets 204 with the policy; its requests carry access-control-allow-origin, the gateway's own answers too", async () => {
      const r = await preflight(`${corsGw.url}/v1/chat/completions`, 'https://app.example.com');
      assert.equal(r.status, 204);
      assert.equal(r.headers.get('access-control-allow-origin'), 'https://app.example.com');
      assert.equal(r.headers.get('access-control-allow-methods'), 'POST, GET');
      assert.match(r.headers.get('access-control-allow-headers') ?? '', /authorization/);
      assert.equal(r.headers.get('vary'), 'Origin');
      const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 });
      const chat = await fetch(`${corsGw.url}/v1/chat/completions`, { method: 'POST', headers: { origin: 'https://app.example.com', 'content-type': 'application/json' }, body });
      assert.equal(chat.status, 200);
      assert.equal(chat.headers.get('access-control-allow-origin'), 'https://app.example.com');
      // A page's script may read the gateway's own headers: the request id, and with --api-keys the rate limits.
      const exposed = (chat.headers.get('access-control-expose-headers') ?? '').split(', ');
      for (const h of ['x-request-id', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-tokens', 'retry-after']) assert.ok(exposed.includes(h), `${h} in ${exposed.join(', ')}`);
      const unknown = await fetch(`${corsGw.url}/v1/chat/completions`, { method: 'POST', headers: { origin: 'https://app.example.com', 'content-type': 'application/json' }, body: body.replace(MODEL, 'no/such') });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.headers.get('access-control-allow-origin'), 'https://app.example.com');
    });

    test('another origin, method or header is refused 403 cors_not_allowed saying which, with no allow-origin', async () => {
      const cases: [origin: string, method: string, headers: string, what: RegExp][] = [
        ['https://evil.example', 'POST', '', /origin https:\/\/evil\.example is not one --allowed-origins names/],
        ['https://app.example.com', 'DELETE', '', /method DELETE is not one --allowed-methods names/],
        ['https://app.example.com', 'POST', 'x-custom', /header\(s\) x-custom are not ones --allowed-headers names/],
      ];
      for (const [origin, method, headers, what] of cases) {
        const r = await fetch(`${corsGw.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, ...(headers ? { 'access-control-request-headers': headers } : {}) } });
        const body = (await r.json()) as { error: { code: string; message: string } };
        assert.equal(r.status, 403, origin);
        assert.equal(body.error.code, 'cors_not_allowed');
        assert.match(body.error.message, what);
        assert.equal(r.headers.get('access-control-allow-origin'), null);
      }
      const other = await fetch(`${corsGw.url}/v1/models`, { headers: { origin: 'https://evil.example' } });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
    });
  });
});

describe('Expect: 100-continue', () => {
  /** Sends `head` and reads until the gateway closes or 1.5 s pass (the client below never sends its body). */
  async function answerTo(head: string): Promise<string> {
    const s = await halfOpen();
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.on('error', () => undefined);
    s.write(head);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1500);
      s.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    s.destroy();
    return text;
  }

  test('a request refused on its headers gets its answer instead of 100 Continue, as from vLLM (uvicorn sends 100 when the body is read), and the connection closes', async () => {
    const text = await answerTo('POST /v1/models HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 405 /, text);
    assert.doesNotMatch(text, /100 Continue/);
    assert.match(text, /\r\nconnection: close\r\n/i);
  });

  test('a request whose body is read gets its 100 Continue', async () => {
    const text = await answerTo('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\n/, text);
  });
});

test('a body in a transfer coding other than chunked (gzip, chunked) is refused 400 bad_request naming it, not parsed as JSON nor forwarded still compressed', async () => {
  const s = await halfOpen();
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString('latin1')));
  s.on('error', () => undefined);
  const ended = new Promise((r) => s.once('end', r));
  const gz = gzipSync(JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }));
  s.write(Buffer.concat([Buffer.from(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n${gz.length.toString(16)}\r\n`), gz, Buffer.from('\r\n0\r\n\r\n')]));
  await ended;
  s.destroy();
  assert.match(text, /^HTTP\/1\.1 400 /, text);
  assert.match(text, /"code":"bad_request"/);
  assert.match(text, /Transfer-Encoding: gzip, chunked is not taken/);
});
