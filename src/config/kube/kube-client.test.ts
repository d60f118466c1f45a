/**
 * KubeClient against an API server that accepts connections and never answers (a hung server, or a peer gone
 * without a reset), on 127.0.168.10: calls fail after the request timeout, so the reflector retries and says so;
 * an open watch that is merely quiet is not cut by it.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../logger.js';
import { until } from '../../../test/helpers/until.js';
import { KubeClient } from './kube-client.js';
import { Reflector } from './reflector.js';
import { PODS } from './resource-types.js';

const HOST = '127.0.168.10';
const sockets = new Set<Socket>();
// Reads requests and answers nothing.
const silent = createServer((s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
  s.resume();
});
// Answers a watch with its headers at once, then no event (a quiet collection).
const watches: ServerResponse[] = [];
const quiet = createHttpServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.flushHeaders();
  watches.push(res);
});

function clientFor(port: number, requestTimeoutMs: number): KubeClient {
  const url = `http://${HOST}:${port}`;
  const config = new KubeConfig();
  config.loadFromClusterAndUser({ name: 'stand-in', server: url, skipTLSVerify: true }, { name: 'stand-in' });
  return new KubeClient({ config, server: url, namespace: 'llm', describe: 'stand-in' }, { requestTimeoutMs });
}

let silentPort = 0;
let quietPort = 0;
before(async () => {
  await new Promise<void>((resolve) => silent.listen(0, HOST, resolve));
  await new Promise<void>((resolve) => quiet.listen(0, HOST, resolve));
  silentPort = (silent.address() as AddressInfo).port;
  quietPort = (quiet.address() as AddressInfo).port;
});
after(async () => {
  for (const s of sockets) s.destroy();
  for (const w of watches) w.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
  await new Promise<void>((resolve) => quiet.close(() => resolve()));
});

test('a list or a watch the API server never answers fails after the request timeout, naming the call and the server', async () => {
  const client = clientFor(silentPort, 200);
  await assert.rejects(client.getJson('/api/v1/namespaces/llm/pods'), /^Error: GET \/api\/v1\/namespaces\/llm\/pods: no answer from the API server at http:\/\/127\.0\.168\.10:\d+ for 0\.2 s$/);
  await assert.rejects(client.watch('/api/v1/namespaces/llm/pods', {}, new AbortController().signal), /no answer from the API server/);
});

test('a reflector whose list hangs reports the watch failing and retries, instead of waiting forever', async (t) => {
  const r = new Reflector({ client: clientFor(silentPort, 200), type: PODS, namespace: 'llm', log: createLogger('silent'), onChange: () => undefined, backoff: { initialMs: 20, maxMs: 50, jitter: 0 } });
  t.after(() => r.stop());
  r.start();
  await until(() => r.stats.failures >= 2, 'two timed-out lists');
  assert.ok(r.failingSince !== undefined);
  assert.match(r.lastError ?? '', /no answer from the API server/);
  assert.equal(r.synced, false);
});

test('an open watch that stays quiet longer than the request timeout is not cut by it', async () => {
  const client = clientFor(quietPort, 100);
  const abort = new AbortController();
  const res = await client.watch('/api/v1/namespaces/llm/pods', {}, abort.signal);
  let ended = false;
  res.on('close', () => (ended = true));
  res.resume();
  // Five request timeouts of silence.
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(ended, false, 'the watch is still open');
  abort.abort();
  await until(() => ended, 'the watch to close');
});
