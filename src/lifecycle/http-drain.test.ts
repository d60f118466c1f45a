import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Client } from 'undici';
import { selfSignedCertificate } from '../extproc/self-signed-certificate.js';
import { HttpDrain } from './http-drain.js';

// Loopback addresses of this file: 127.0.67.x.
const HOST = '127.0.67.10';

interface Served {
  server: Server;
  drain: HttpDrain;
  url: string;
  port: number;
  /** Responses held open by GET /hold until the test releases them. */
  held: ServerResponse[];
}

/** GET /hold: headers at once, then held open; anything else: `ok` after a millisecond, as a short proxied request. */
async function serve(idleLingerMs = 200): Promise<Served> {
  const held: ServerResponse[] = [];
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    if (req.url === '/hold') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('start\n');
      held.push(res);
    } else setTimeout(() => res.end('ok'), 1);
  });
  const drain = new HttpDrain(server, { idleLingerMs });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, drain, url: `http://${HOST}:${port}`, port, held };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, HOST);
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

test('drain: refuses new connections, answers Connection: close on open keep-alive connections, waits for the stream in flight', async () => {
  // A linger long enough that a loaded machine still sends the idle connection's next request within it.
  const { drain, url, port, held } = await serve(10_000);
  const client = new Client(url, { pipelining: 1 });
  try {
    const before = await client.request({ method: 'GET', path: '/' });
    assert.equal(before.headers.connection, 'keep-alive');
    await before.body.text();
    // A second connection carries a stream whose headers (keep-alive) went out before the drain.
    const streamer = new Client(url);
    const stream = await streamer.request({ method: 'GET', path: '/hold' });
    assert.equal(stream.headers.connection, 'keep-alive');
    assert.equal(drain.inFlight, 1);

    let drained = false;
    const done = drain.drain().then(() => {
      drained = true;
    });
    assert.equal(await refused(port), true, 'a new connection is refused once draining');
    // The idle keep-alive connection is still there within the linger: its next request is served, with close.
    const after = await client.request({ method: 'GET', path: '/' });
    assert.equal(after.headers.connection, 'close');
    assert.equal(await after.body.text(), 'ok');
    assert.equal(drained, false, 'the stream is still in flight');
    held[0]!.end('end\n');
    assert.equal(await stream.body.text(), 'start\nend\n', 'the stream in flight finished whole');
    await done;
    assert.equal(drain.connections, 0);
    await streamer.close();
  } finally {
    await client.destroy();
  }
});

test('drain: a response not started when the drain begins goes out with Connection: close', async () => {
  const { drain, url, server } = await serve();
  // Slow this one down: the drain starts while the handler is still working on it.
  server.prependListener('request', (req) => {
    if (req.url === '/slow') req.url = '/';
  });
  const client = new Client(url);
  try {
    const pending = client.request({ method: 'GET', path: '/slow' });
    await new Promise<void>((r) => server.once('request', () => r()));
    const done = drain.drain();
    const res = await pending;
    assert.equal(res.headers.connection, 'close');
    assert.equal(await res.body.text(), 'ok');
    await done;
  } finally {
    await client.destroy();
  }
});

test('drain: an idle keep-alive connection is closed after the linger, and the drain then ends', async () => {
  const { drain, url } = await serve(50);
  const client = new Client(url);
  try {
    const res = await client.request({ method: 'GET', path: '/' });
    await res.body.text();
    assert.equal(drain.connections, 1);
    await drain.drain();
    assert.equal(drain.connections, 0);
  } finally {
    await client.destroy();
  }
});

test('cut: destroys what is in flight, and the drain ends', async () => {
  const { drain, url } = await serve();
  const client = new Client(url);
  try {
    const stream = await client.request({ method: 'GET', path: '/hold' });
    const done = drain.drain();
    drain.cut();
    await done;
    await assert.rejects(stream.body.text(), 'the stream was cut');
  } finally {
    await client.destroy();
  }
});

/**
 * An HTTPS server, and a TCP connection to it that never starts its TLS handshake (a load balancer's TCP check,
 * a port scan), once the server has accepted it. Over 127.0.156.x.
 */
async function silentTlsClient(idleLingerMs: number): Promise<{ server: Server; drain: HttpDrain; socket: Socket }> {
  const pair = selfSignedCertificate();
  const server = createHttpsServer({ cert: pair.cert, key: pair.key }, (_req, res) => res.end('ok'));
  const drain = new HttpDrain(server, { idleLingerMs });
  await new Promise<void>((resolve) => server.listen(0, '127.0.156.10', resolve));
  const accepted = new Promise((resolve) => server.once('connection', resolve));
  const socket = connect((server.address() as AddressInfo).port, '127.0.156.10');
  socket.on('error', () => undefined);
  await accepted;
  return { server, drain, socket };
}

/** Whether `p` settles before a bound far past what it needs (Node's TLS handshake timeout is 120 s). */
function settles(p: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 10_000)));
  return Promise.race([p.then(() => true), bound]).finally(() => clearTimeout(timer));
}

test('drain (HTTPS): a connection that never starts its TLS handshake is closed after the linger, and the drain ends', async () => {
  const { drain, socket } = await silentTlsClient(50);
  try {
    const closed = new Promise((resolve) => socket.once('close', resolve));
    assert.ok(await settles(drain.drain()), 'the drain ended without waiting for the handshake timeout');
    assert.ok(await settles(closed), "the client's connection was closed");
  } finally {
    socket.destroy();
  }
});

test('cut (HTTPS): a connection still before its TLS handshake is destroyed too, and the drain ends', async () => {
  const { drain, socket } = await silentTlsClient(60_000);
  try {
    const done = drain.drain();
    drain.cut();
    assert.ok(await settles(done), 'the drain ended once cut');
  } finally {
    socket.destroy();
  }
});

/**
 * The race the linger exists for: a keep-alive client sending back to back, the drain starting at any moment.
 * Every request gets a full answer or is refused at connect (never sent); none is reset after it was sent.
 */
test('drain: a back-to-back keep-alive client loses no request, wherever the drain starts', async () => {
  for (let round = 0; round < 30; round++) {
    const { drain, url } = await serve();
    const client = new Client(url, { pipelining: 1 });
    let answered = 0;
    let lost: string | undefined;
    const loop = (async () => {
      for (let i = 0; i < 500; i++) {
        try {
          const res = await client.request({ method: 'POST', path: '/', body: '{}' });
          assert.equal(await res.body.text(), 'ok');
          answered++;
        } catch (e) {
          // Refused, or reset while connecting (in the accept queue as the listener closed): never sent.
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'ECONNREFUSED' && !(e as Error).message.startsWith('connect ')) lost = `${code ?? ''} ${(e as Error).message}`;
          return;
        }
      }
    })();
    // The keep-alive connection is in use first; then the drain starts 0-9 ms into the back-to-back requests.
    for (let i = 0; i < 500 && answered === 0 && lost === undefined; i++) await new Promise((r) => setTimeout(r, 2));
    await new Promise((r) => setTimeout(r, round % 10));
    const done = drain.drain();
    await loop;
    await client.destroy();
    await done;
    assert.equal(lost, undefined, `round ${round}: a request was lost after ${answered} answers`);
    assert.ok(answered > 0);
  }
});
