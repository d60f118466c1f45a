/** ModelDiscovery against real HTTP servers on loopback: models learnt, failures recorded, changes announced. */
import { test, describe, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { until } from '../../../test/helpers/until.js';
import { inferencePool, pod } from '../../api/test-fixtures.js';
import { snapshot } from '../../config/test-fixtures.js';
import { FakeEngine, refusedPort, type Handler } from '../fake-engine.js';
import { Datastore } from './datastore.js';
import { Endpoint } from './endpoint.js';
import { ModelDiscovery } from './model-discovery.js';

const HOST = '127.0.20.1';

function models(...cards: { id: string; parent?: string }[]): Handler {
  return (req, res) => {
    if (req.url !== '/v1/models') {
      res.writeHead(404).end();
      return;
    }
    const data = cards.map((c) => ({ id: c.id, object: 'model', created: 0, owned_by: 'vllm', root: c.id, parent: c.parent ?? null, max_model_len: 4096 }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data }));
  };
}

describe('ModelDiscovery', () => {
  const engine = new FakeEngine(HOST);
  let port: number;
  let closedPort: number;
  let store: Datastore;
  let discovery: ModelDiscovery;
  let changes: number;
  let errors: string[];

  before(async () => {
    port = await engine.listen();
    closedPort = await refusedPort(HOST);
  });
  after(async () => {
    await engine.close();
  });
  beforeEach(() => {
    engine.handler = models({ id: 'google/gemma-2b-it' }, { id: 'gemma-sql-lora', parent: 'google/gemma-2b-it' });
    engine.hits = 0;
    store = new Datastore();
    changes = 0;
    errors = [];
    discovery = new ModelDiscovery(store, { intervalMs: 60_000, timeoutMs: 1000, onChange: () => changes++, onError: (_ep, m) => errors.push(m) });
  });
  afterEach(async () => {
    await discovery.close();
  });

  const endpoint = (p: number): Endpoint => new Endpoint(pod('gemma-0').ip(HOST).ready(), HOST, p);

  test('learns the models and calls onChange once per change', async () => {
    const ep = endpoint(port);
    await discovery.refresh(ep);
    assert.deepEqual([...ep.models!.values()].map((c) => [c.id, c.parent]), [
      ['google/gemma-2b-it', null],
      ['gemma-sql-lora', 'google/gemma-2b-it'],
    ]);
    assert.equal(ep.modelsError, undefined);
    assert.ok(ep.modelsFetchedAt > 0);
    assert.equal(changes, 1);

    await discovery.refresh(ep);
    assert.equal(changes, 1, 'the same answer is no change');

    engine.handler = models({ id: 'google/gemma-2b-it' }, { id: 'gemma-sql-lora', parent: 'google/gemma-2b-it' }, { id: 'gemma-chat-lora', parent: 'google/gemma-2b-it' });
    await discovery.refresh(ep);
    assert.equal(ep.serves('gemma-chat-lora'), true);
    assert.equal(changes, 2);
    assert.deepEqual(errors, []);
  });

  test('a 500 sets modelsError and keeps what was known', async () => {
    const ep = endpoint(port);
    engine.handler = (_req, res) => res.writeHead(500).end('engine dead');
    await discovery.refresh(ep);
    assert.equal(ep.models, undefined);
    assert.match(ep.modelsError ?? '', new RegExp(`^GET http://127\\.0\\.20\\.1:${port}/v1/models failed: .*answered 500`));
    assert.equal(changes, 0);
    assert.deepEqual(errors, [ep.modelsError]);

    engine.handler = models({ id: 'm' });
    await discovery.refresh(ep);
    assert.equal(ep.serves('m'), true);
    assert.equal(ep.modelsError, undefined);
    assert.equal(changes, 1);

    engine.handler = (_req, res) => res.writeHead(500).end();
    await discovery.refresh(ep);
    assert.equal(ep.serves('m'), true, 'a failed refresh keeps the last models');
    assert.match(ep.modelsError ?? '', /answered 500/);
    assert.equal(changes, 1);
  });

  test('a 200 whose body is not a model list marks the endpoint as one that cannot say what it serves, until it lists models', async () => {
    const ep = endpoint(port);
    // GIE's conformance pods (echo servers) answer GET /v1/models with an account of the request.
    engine.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"path":"/v1/models","pod":"echo-0"}');
    await discovery.refresh(ep);
    assert.equal(ep.modelsUnlisted, true);
    assert.equal(ep.modelsError, undefined);
    assert.equal(ep.models, undefined);
    assert.equal(changes, 1);
    engine.handler = (_req, res) => res.writeHead(200).end('<html>');
    await discovery.refresh(ep);
    assert.equal(ep.modelsUnlisted, true);
    engine.handler = models({ id: 'm' });
    await discovery.refresh(ep);
    assert.equal(ep.modelsUnlisted, false);
    assert.equal(ep.serves('m'), true);
    engine.handler = (_req, res) => res.writeHead(500).end('engine dead');
    await discovery.refresh(ep);
    assert.equal(ep.modelsUnlisted, false, 'a failure says nothing about what it serves');
  });

  test('a closed port sets modelsError', async () => {
    const ep = endpoint(closedPort);
    await discovery.refresh(ep);
    assert.equal(ep.models, undefined);
    assert.match(ep.modelsError ?? '', /ECONNREFUSED/);
    assert.equal(changes, 0);
    assert.equal(errors.length, 1);
  });

  test('a server that never answers times out', async () => {
    const ep = endpoint(port);
    engine.handler = () => undefined; // hold the request open; closeAllConnections ends it
    const quick = new ModelDiscovery(store, { intervalMs: 60_000, timeoutMs: 150 });
    try {
      const started = Date.now();
      await quick.refresh(ep);
      assert.ok(Date.now() - started < 2000);
      assert.match(ep.modelsError ?? '', /failed/);
      assert.equal(ep.models, undefined);
    } finally {
      engine.server.closeAllConnections();
      await quick.close();
    }
  });

  test('concurrent refreshes of one endpoint share one request', async () => {
    const ep = endpoint(port);
    await Promise.all([discovery.refresh(ep), discovery.refresh(ep), discovery.refresh(ep)]);
    assert.equal(engine.hits, 1);
  });

  test('refreshAll covers the datastore endpoints and invalidates the catalog', async () => {
    store.apply(snapshot(inferencePool('gemma').selects({ app: 'gemma' }).ports(port, closedPort), pod('gemma-0').labels({ app: 'gemma' }).ip(HOST).ready()));
    assert.equal(store.catalog().models.size, 0);
    await discovery.refreshAll();
    const [up, down] = store.pool('default/gemma')!.endpoints;
    assert.equal(up!.serves('gemma-sql-lora'), true);
    assert.match(down!.modelsError ?? '', /ECONNREFUSED/);
    assert.deepEqual([...store.catalog().models.keys()], ['google/gemma-2b-it', 'gemma-sql-lora']);
    assert.deepEqual(store.catalog().models.get('gemma-sql-lora')?.pods, ['default/gemma-0']);
    assert.equal(changes, 1);
  });

  test('start() refreshes every interval until stopped', async () => {
    store.apply(snapshot(inferencePool('gemma').selects({ app: 'gemma' }).ports(port), pod('gemma-0').labels({ app: 'gemma' }).ip(HOST).ready()));
    const periodic = new ModelDiscovery(store, { intervalMs: 20, timeoutMs: 1000, onChange: () => changes++ });
    try {
      periodic.start();
      await until(() => engine.hits >= 2, 'two periodic refreshes');
      assert.equal(store.pool('default/gemma')!.endpoints[0]!.serves('google/gemma-2b-it'), true);
      assert.equal(changes, 1);
      periodic.stop();
      await delay(30); // a refresh already in flight may still land
      const hits = engine.hits;
      await delay(100);
      assert.equal(engine.hits, hits, 'no refresh after stop()');
    } finally {
      await periodic.close();
    }
  });
});

describe('ModelDiscovery and pods that do not answer', () => {
  const HOST2 = '127.0.20.2';
  let port: number;
  let connections = 0;
  /** Accepts and drops every connection until `answering`: a listed pod whose server is not up. */
  let answering = false;
  const models = new FakeEngine(HOST2);
  const server = createNetServer((socket) => {
    connections++;
    if (!answering) return void socket.destroy();
    models.server.emit('connection', socket);
  });
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, HOST2, resolve));
    port = (server.address() as AddressInfo).port;
    models.handler = (req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[{"id":"m","object":"model"}]}');
  });
  after(async () => {
    models.server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('start() asks a failing endpoint after 1 s, then 2 s, 4 s ... up to the interval, and learns its models once it answers', async () => {
    const store = new Datastore();
    store.apply(snapshot(inferencePool('p').selects({ app: 'p' }).ports(port), pod('p-0').labels({ app: 'p' }).ip(HOST2).ready()));
    const ep = store.pool('default/p')!.endpoints[0]!;
    // A 4 s interval ticks every second: without the backoff, one attempt a second.
    const discovery = new ModelDiscovery(store, { intervalMs: 4000, timeoutMs: 500 });
    try {
      await discovery.refresh(ep);
      assert.match(ep.modelsError ?? '', /failed/);
      discovery.start();
      await delay(6500);
      // Attempts at about 1, 3 and 7 s after the first (waits of 1, 2, 4 s): 2 in 6.5 s, 3 if a tick comes early.
      assert.ok(connections >= 2 && connections <= 4, `${connections} connections in 6.5 s, the first refresh included`);
      assert.equal(ep.modelsRetry.failures, connections);
      answering = true;
      await until(() => ep.serves('m') === true, 'models learnt once the pod answers', 6000);
      assert.equal(ep.modelsRetry.failures, 0);
      assert.equal(ep.modelsError, undefined);
    } finally {
      await discovery.close();
    }
  });
});

describe('ModelDiscovery and pods started with an API key', () => {
  // vLLM with --api-key: 401 {"error":"Unauthorized"} on /v1 without the right Bearer token.
  const keyed = new FakeEngine('127.0.82.1');
  let port: number;
  before(async () => {
    port = await keyed.listen();
    keyed.handler = (req, res) => {
      if (req.headers.authorization !== 'Bearer sk-pod') {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"Unauthorized"}');
        return;
      }
      models({ id: 'google/gemma-2b-it' })(req, res);
    };
  });
  after(() => keyed.close());

  test('a 401 is a refusal naming what to set, told once however often it repeats, and is in the catalog; the pool key clears it', async () => {
    const store = new Datastore();
    store.apply(snapshot(inferencePool('gemma').selects({ app: 'gemma' }).ports(port), pod('gemma-0').labels({ app: 'gemma' }).ip('127.0.82.1').ready()));
    const ep = store.pool('default/gemma')!.endpoints[0]!;
    const refused: string[] = [];
    let headers: Record<string, string> | undefined;
    const auth = { headersFor: () => headers, refused: (_ep: Endpoint, url: string, status: number) => `GET ${url} answered ${status}: set the key` };
    const discovery = new ModelDiscovery(store, { intervalMs: 60_000, timeoutMs: 1000, auth, onRefused: (_ep, m) => refused.push(m) });
    try {
      await discovery.refresh(ep);
      await discovery.refresh(ep);
      assert.equal(ep.modelsRefused, 401);
      assert.equal(ep.models, undefined);
      assert.equal(ep.modelsError, `GET http://127.0.82.1:${port}/v1/models answered 401: set the key`);
      assert.deepEqual(refused, [ep.modelsError], 'one warning, not one per retry');
      assert.deepEqual(store.catalog().refused, [{ pod: 'default/gemma-0', message: ep.modelsError }]);

      headers = { authorization: 'Bearer sk-pod' };
      await discovery.refresh(ep);
      assert.equal(ep.modelsRefused, 0);
      assert.equal(ep.serves('google/gemma-2b-it'), true);
      assert.equal(store.catalog().refused, undefined, 'the catalog is rebuilt when the refusal ends');
    } finally {
      await discovery.close();
    }
  });

  test('without credentials the message still says what to set', async () => {
    const ep = new Endpoint(pod('gemma-0').ip('127.0.82.1').ready(), '127.0.82.1', port);
    const discovery = new ModelDiscovery(new Datastore(), { intervalMs: 60_000, timeoutMs: 1000 });
    try {
      await discovery.refresh(ep);
      assert.match(ep.modelsError ?? '', /answered 401 Unauthorized: the pod requires an API key \(vLLM --api-key or VLLM_API_KEY\) and the gateway sent none; set the pool's annotation infergate\.io\/upstream-api-key-file/);
    } finally {
      await discovery.close();
    }
  });
});
