/**
 * Graceful shutdown of the real CLI (`infergate serve` as a child process) under load: 50 streams of 20+ s
 * in flight at SIGTERM all finish with [DONE]; a keep-alive client sending back to back through a layer-4
 * balancer (kube-proxy's part: new connections to ready backends only) loses no request as the balancer
 * moves it to a second replica; /readyz fails at once; new connections are refused after the delay; exit 0.
 * Then the second signal, the drain timeout, and `infergate extproc`'s drain of its gRPC streams. Simulated
 * pods on 127.0.67.x; gateways, the balancer and the ext_proc servers on 127.0.68.x.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import OpenAI from 'openai';
import { Client } from 'undici';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, type Fleet, type TempConfig } from '../helpers/fleet.js';
import { startCli, type CliProcess } from '../helpers/cli-process.js';
import { until } from '../helpers/until.js';
import { ExtProcClient, HealthClient, requestBody, requestHeaders } from '../../src/extproc/ext-proc-client.js';
import { ended } from '../helpers/extproc.js';

const LONG = 'long/model';
const SHORT = 'short/model';
/** 42 tokens at 500 ms each: every stream lasts about 21 s. */
const LONG_TOKENS = 42;
const STREAMS = 50;
const GATEWAY_A = '127.0.68.2';
const GATEWAY_B = '127.0.68.3';
const BALANCER = '127.0.68.1';
const EXTPROC = '127.0.68.4';

let fleet: Fleet;
let cfg: TempConfig;

before(async () => {
  fleet = await startFleet(67, [
    { name: 'long-0', labels: { app: 'long' }, model: LONG, itlMs: 500, maxNumSeqs: 64 },
    { name: 'short-0', labels: { app: 'short' }, model: SHORT, itlMs: 5, maxNumSeqs: 8 },
  ]);
  cfg = await tempConfig({
    'all.yaml': [
      podYaml('long-0', fleet.ipOf('long-0'), { app: 'long' }),
      podYaml('short-0', fleet.ipOf('short-0'), { app: 'short' }),
      poolYaml('long', { app: 'long' }, fleet.port),
      poolYaml('short', { app: 'short' }, fleet.port),
      baseModelRouteYaml('long', LONG, [['long', 1]]),
      baseModelRouteYaml('short', SHORT, [['short', 1]]),
    ].join('---\n'),
  });
});

after(async () => {
  await fleet?.close();
  await cfg?.remove();
});

/** `infergate serve` on `host`, an ephemeral port; resolves with its URL once it listens. */
async function startServe(host: string, ...flags: string[]): Promise<{ cli: CliProcess; url: string; port: number }> {
  const cli = await startCli(['serve', '-f', cfg.dir, '--host', host, '--port', '0', '--admin-port', '0', ...flags], /infergate listening on http:\/\//);
  const url = /listening on (http:\/\/\S+)/.exec(await cli.line(/listening on/))![1]!;
  return { cli, url, port: Number(new URL(url).port) };
}

/** GET path on a fresh connection: status and parsed body. */
function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false, timeout: 2000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** Whether a new TCP connection to host:port is refused. */
function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

interface Balancer {
  url: string;
  /** Connections sent to each backend, in the order given. */
  connections: number[];
  close(): Promise<void>;
}

/**
 * A layer-4 balancer as kube-proxy is for a Service: each new connection goes to the first backend whose
 * /readyz answered 200 at the last probe (every 100 ms); open connections stay where they are.
 */
async function startBalancer(backends: readonly { host: string; port: number }[]): Promise<Balancer> {
  const ready = backends.map(() => false);
  const connections = backends.map(() => 0);
  const sockets = new Set<Socket>();
  const probe = async (): Promise<void> => {
    await Promise.all(backends.map(async (b, i) => {
      ready[i] = await get(`http://${b.host}:${b.port}/readyz`).then((r) => r.status === 200, () => false);
    }));
  };
  await probe();
  const prober = setInterval(() => void probe(), 100);
  const server: Server = createServer((client) => {
    const i = ready.indexOf(true);
    if (i < 0) return client.destroy();
    connections[i]!++;
    const upstream = connect(backends[i]!.port, backends[i]!.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, BALANCER, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${BALANCER}:${port}`,
    connections,
    close: async () => {
      clearInterval(prober);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface StreamResult {
  tokens: number;
  finishReason: string | null;
  /** The response body as it arrived, SSE framing included. */
  raw: string;
  endedAt: number;
}

/**
 * One streamed chat completion through the official client; the raw bytes are kept beside (a tee of the
 * body), so the test sees the `data: [DONE]` the client consumes. `started` resolves on the first chunk.
 */
function openStream(url: string, i: number): { started: Promise<void>; done: Promise<StreamResult> } {
  let raw = '';
  let rawDone: Promise<void> = Promise.resolve();
  const teeFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await fetch(input, init);
    if (!res.body) return res;
    const [forClient, forTest] = res.body.tee();
    rawDone = (async () => {
      const reader = forTest.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        raw += decoder.decode(value, { stream: true });
      }
    })().catch(() => undefined); // a cut body fails the client's side too, which the test sees
    return new Response(forClient, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0, fetch: teeFetch });
  let markStarted = (): void => undefined;
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const done = (async (): Promise<StreamResult> => {
    const stream = await client.chat.completions.create({ model: LONG, messages: [{ role: 'user', content: `stream ${i}` }], stream: true, max_tokens: LONG_TOKENS });
    let tokens = 0;
    let finishReason: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta?.content) {
        tokens++;
        markStarted();
      }
      if (choice?.finish_reason) finishReason = choice.finish_reason;
    }
    await rawDone;
    return { tokens, finishReason, raw, endedAt: Date.now() };
  })();
  return { started, done };
}

interface LoopResult {
  answered: number;
  /** Requests that were sent and got no full answer: must stay empty. */
  lost: string[];
  /** Responses with `Connection: close`, and keep-alive ones after SIGTERM (served during the delay). */
  closes: number;
  keepAliveAfterSignal: number;
}

describe('SIGTERM with 50 streams in flight and a keep-alive client (infergate serve)', () => {
  test('every stream finishes with [DONE], no request is lost, /readyz fails at once, new connections are refused after the delay, exit 0', async (t) => {
    const a = await startServe(GATEWAY_A, '--shutdown-delay', '2s', '--drain-timeout', '60s');
    let b: RunningGateway | undefined;
    let lb: Balancer | undefined;
    let client: Client | undefined;
    try {
      b = await startTestGateway(cfg.dir, { host: GATEWAY_B });
      lb = await startBalancer([{ host: GATEWAY_A, port: a.port }, { host: GATEWAY_B, port: b.address.port }]);
      assert.deepEqual((await get(`${a.url}/readyz`)).status, 200);

      const streams = Array.from({ length: STREAMS }, (_, i) => openStream(a.url, i));
      let finished = 0;
      for (const s of streams) s.done.then(() => finished++, () => undefined);
      await Promise.all(streams.map((s) => s.started));

      // The keep-alive client: one connection at a time, the next request as soon as the last answer is in.
      client = new Client(lb.url, { pipelining: 1, keepAliveTimeout: 60_000 });
      const loop: LoopResult = { answered: 0, lost: [], closes: 0, keepAliveAfterSignal: 0 };
      let signalled = false;
      let stop = false;
      const body = JSON.stringify({ model: SHORT, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
      const looping = (async () => {
        for (let i = 0; i < 20_000 && !stop; i++) {
          try {
            const res = await client!.request({ method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body });
            const json = (await res.body.json()) as { choices?: unknown[] };
            if (res.statusCode !== 200 || !Array.isArray(json.choices)) loop.lost.push(`status ${res.statusCode}: ${JSON.stringify(json)}`);
            else loop.answered++;
            if (res.headers.connection === 'close') loop.closes++;
            else if (signalled) loop.keepAliveAfterSignal++;
          } catch (e) {
            loop.lost.push(`${(e as NodeJS.ErrnoException).code ?? ''} ${(e as Error).message}`);
          }
        }
      })();
      await until(() => loop.answered >= 20, 'the keep-alive client to be answered', 10_000);
      assert.equal(lb.connections[0], 1, 'the keep-alive client is on replica A, one connection');

      const signalledAt = Date.now();
      a.cli.kill('SIGTERM');
      signalled = true;
      await a.cli.line(/shutting down: readiness fails now/);
      const readyz = await get(`${a.url}/readyz`);
      assert.equal(readyz.status, 503, 'readiness fails at once');
      assert.equal(readyz.body.reason, 'shutting down');
      assert.equal(await refused(GATEWAY_A, a.port), false, 'new connections are still accepted during the delay');

      // After the delay: the listener is closed.
      for (let i = 0; i < 200 && !(await refused(GATEWAY_A, a.port)); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await refused(GATEWAY_A, a.port), true, 'new connections are refused after the delay');
      const refusedAt = Date.now();
      assert.equal(finished, 0, 'the streams are still in flight when the listener closes');

      // The keep-alive client was told to leave and went on through the balancer to replica B.
      const answeredAtRefusal = loop.answered;
      await until(() => loop.answered >= answeredAtRefusal + 50 || loop.lost.length > 0, 'the keep-alive client to go on through replica B', 10_000);
      stop = true;
      await looping;
      assert.deepEqual(loop.lost, [], 'every request of the keep-alive client got a full answer');
      assert.ok(loop.closes >= 1, 'replica A answered the keep-alive client with Connection: close after the delay');
      assert.ok(loop.keepAliveAfterSignal >= 1, 'during the delay replica A kept serving the keep-alive connection');
      assert.ok(lb.connections[1]! >= 1, `the client reconnected to replica B (connections per replica: ${lb.connections.join(', ')})`);
      assert.equal(lb.connections[0], 1, 'and never to replica A again');

      const results = await Promise.all(streams.map((s) => s.done));
      const exit = await a.cli.exited;
      const exitedAt = Date.now();
      for (const [i, r] of results.entries()) {
        assert.equal(r.tokens, LONG_TOKENS, `stream ${i} got every token`);
        assert.equal(r.finishReason, 'length', `stream ${i} finished`);
        assert.match(r.raw, /data: \[DONE\]\s*$/, `stream ${i} ends with data: [DONE]`);
      }
      assert.deepEqual(exit, { code: 0, signal: null }, 'exit 0 after a clean drain');
      const lastStream = Math.max(...results.map((r) => r.endedAt));
      assert.ok(exitedAt >= lastStream, 'the gateway exited after the last stream ended');
      for (const phase of [/INFO .*shutting down: readiness fails now/, /INFO .*draining: stopped accepting connections;.* requests_in_flight=(50|51)\b/, /INFO .*drained: every request in flight finished/]) {
        assert.ok(a.cli.lines.some((l) => phase.test(l)), `logged at info: ${phase}\n${a.cli.lines.join('\n')}`);
      }
      // Figures for the report, not assertions.
      t.diagnostic(`SIGTERM to exit: ${exitedAt - signalledAt} ms (delay 2 s; listener closed after ${refusedAt - signalledAt} ms); streams: ${STREAMS} in flight, ${results.length} finished with [DONE]; keep-alive client: ${loop.answered} answered, ${loop.lost.length} lost, connections per replica ${lb.connections.join('/')}`);
    } finally {
      a.cli.kill('SIGKILL');
      await client?.destroy();
      await lb?.close();
      await b?.close();
    }
  });
});

describe('the second signal and the drain timeout', () => {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    test(`a second ${signal} exits at once with ${code}, cutting the stream in flight`, async () => {
      const a = await startServe(GATEWAY_A, '--shutdown-delay', '60s');
      try {
        const stream = openStream(a.url, 0);
        const outcome = stream.done.then(() => 'finished', () => 'cut');
        await stream.started;
        a.cli.kill(signal);
        await a.cli.line(/shutting down: readiness fails now/);
        a.cli.kill(signal);
        const exit = await Promise.race([a.cli.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 10_000))]);
        assert.deepEqual(exit, { code, signal: null });
        assert.equal(await outcome, 'cut', 'the stream in flight was cut');
      } finally {
        a.cli.kill('SIGKILL');
      }
    });
  }

  test('the drain timeout cuts a stream that outlasts it, and the gateway still exits 0', async () => {
    const a = await startServe(GATEWAY_A, '--shutdown-delay', '0', '--drain-timeout', '500ms');
    try {
      const stream = openStream(a.url, 0);
      const outcome = stream.done.then(() => 'finished', () => 'cut');
      await stream.started;
      a.cli.kill('SIGTERM');
      assert.equal(await outcome, 'cut', 'the stream was cut at the drain timeout');
      assert.deepEqual(await a.cli.exited, { code: 0, signal: null });
      assert.ok(a.cli.lines.some((l) => /WARN .*drain timeout: 500ms \(--drain-timeout\) passed; cutting what is still in flight.* requests_cut=1/.test(l)), a.cli.lines.join('\n'));
    } finally {
      a.cli.kill('SIGKILL');
    }
  });
});

describe('SIGTERM with an ext_proc stream in flight (infergate extproc)', () => {
  test('gRPC health NOT_SERVING at once, the open stream finishes after the listeners closed, new connections are refused, exit 0', async () => {
    const cli = await startCli(
      ['extproc', '-f', cfg.dir, '--host', EXTPROC, '--no-secure-serving', '--bbr-port', '0', '--epp-port', '0', '--health-port', '0', '--admin-port', '0', '--shutdown-delay', '1s', '--drain-timeout', '30s'],
      /ext_proc servers ready/,
    );
    const port = (name: string): number => Number(new RegExp(` ${name}=(\\d+)`).exec(cli.lines.find((l) => /ext_proc servers ready/.test(l))!)![1]);
    const health = new HealthClient(`${EXTPROC}:${port('health')}`);
    const client = new ExtProcClient(`${EXTPROC}:${port('bbr')}`);
    try {
      assert.equal(await health.check('readiness'), 'SERVING');
      // One HTTP request in flight, as Envoy holds it: headers sent and answered, the body still to come.
      const protocol = { request: 'BUFFERED' as const };
      const s = client.open().send(requestHeaders({ ':method': 'POST', ':path': '/v1/chat/completions', ':authority': 'gw.example', 'content-type': 'application/json' }, false, { protocol }));
      assert.deepEqual(await s.next(), { request_headers: {}, response: 'request_headers' });

      cli.kill('SIGTERM');
      await cli.line(/shutting down: readiness fails now.* streams_in_flight=1/);
      for (const service of ['readiness', 'envoy.service.ext_proc.v3.ExternalProcessor']) assert.equal(await health.check(service), 'NOT_SERVING', service);
      assert.equal(await health.check('liveness'), 'SERVING', 'liveness holds through the drain');
      const readyz = await get(`http://${EXTPROC}:${port('admin')}/readyz`);
      assert.equal(readyz.status, 503);
      assert.equal(readyz.body.reason, 'shutting down');

      await cli.line(/draining: stopped accepting connections;.* streams_in_flight=1/);
      for (let i = 0; i < 100 && !(await refused(EXTPROC, port('bbr'))); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await refused(EXTPROC, port('bbr')), true, 'new connections to the ext_proc port are refused once draining');
      // The stream in flight still completes.
      s.send(requestBody(JSON.stringify({ model: SHORT, messages: [{ role: 'user', content: 'hi' }] }), true));
      const answer = (await s.next()) as { request_body?: { response?: { header_mutation?: { set_headers?: { header: { key: string } }[] } } } };
      assert.ok(answer.request_body?.response?.header_mutation?.set_headers?.some((h) => h.header.key === 'x-gateway-base-model-name'), JSON.stringify(answer));
      await ended(s);
      assert.deepEqual(await cli.exited, { code: 0, signal: null });
      assert.ok(cli.lines.some((l) => /INFO .*drained: every stream in flight finished/.test(l)), cli.lines.join('\n'));
    } finally {
      cli.kill('SIGKILL');
      health.close();
      client.close();
    }
  });
});
