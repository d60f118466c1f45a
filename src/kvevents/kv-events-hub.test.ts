/**
 * The hub with ingestion in a worker thread (the default), against real ZMQ publishers on loopback: blocks reach
 * the request thread's index, problems are counted and logged once, a worker that dies is restarted (the gateway
 * never goes down with it), and closing the hub ends the worker.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KvTestPublisher } from '../../test/helpers/kv-test-publisher.js';
import { waitFor } from '../../test/helpers/fleet.js';
import { createLogger } from '../logger.js';
import { encodeSeq, type BlockStoredEvent } from './wire-format.js';
import { IngestWorker } from './ingest-worker-client.js';
import { KvEventsHub, type KvEventsIngestion } from './kv-events-hub.js';
import { defaultKvEventsSettings } from './kv-events-settings.js';
import { Publisher, Router } from 'zeromq';
import { encodeKvEventMessage } from './wire-format.js';
import { kvEventsFamilies } from '../observability/metrics/kv-events-metrics.js';
import type { KvCacheView } from './kv-cache-view.js';

const MODEL = 'm';
const BS = 16;
const PUB_PORT = 5557;
const REPLAY_PORT = 5559;
const hosts = ['127.0.117.21', '127.0.117.22'];
const pubs: KvTestPublisher[] = [];
let hashes = 1n << 50n;

before(async () => {
  for (const h of hosts) pubs.push(await KvTestPublisher.start(h, PUB_PORT, REPLAY_PORT, MODEL));
});

after(async () => {
  for (const p of pubs) await p.close();
});

function stored(tokens: number[]): BlockStoredEvent {
  const n = Math.floor(tokens.length / BS);
  return { type: 'BlockStored', blockHashes: Array.from({ length: n }, () => hashes++), parentBlockHash: null, tokenIds: tokens.slice(0, n * BS), blockSize: BS, loraId: null, medium: 'GPU', loraName: null, extraKeys: null, groupIdx: null, kvCacheSpecKind: null, kvCacheSpecSlidingWindow: null };
}

const tokens = (seed: number, blocks: number): number[] => Array.from({ length: blocks * BS }, (_, i) => 1 + ((seed * 7919 + i * 31) % 50_000));

/** Leading blocks of `t` the view believes the pod at `address` holds. */
function held(view: KvCacheView, address: string, t: number[]): number {
  const r = view.lookup(view.hasher.keys(t, MODEL));
  for (let i = 0; i < r.size; i++) if (view.addressOf(r.pods[i]!) === address) return r.matched[i]!;
  return 0;
}

async function hubWith(
  ingestion: KvEventsIngestion,
  logs: string[],
  silence: { tuning: number } | { setting: number } = { tuning: 300 },
): Promise<{ hub: KvEventsHub; view: KvCacheView; address: (i: number) => string }> {
  const stream = { recoveryMs: 1000, silentAfterRequests: 2, ...('tuning' in silence ? { silentMs: silence.tuning } : {}) };
  const hub = new KvEventsHub({ log: createLogger('warn', (l) => logs.push(l)), ingestion, workerRestartMs: 50, stream });
  const view = hub.view(defaultKvEventsSettings({ socketPort: PUB_PORT, replaySocketPort: REPLAY_PORT, ...('setting' in silence ? { silenceTimeoutMs: silence.setting } : {}) }));
  const address = (i: number): string => `${hosts[i]}:8000`;
  // The owner lists the pod's one base model: replayed stores (no topic) are keyed by it.
  const owner = { models: new Map([[MODEL, { parent: null }]]) };
  view.sync(new Map(pubs.map((p, i) => [address(i), { endpoint: p.endpoint, replayEndpoint: p.replayEndpoint, owner }])));
  assert.ok(await waitFor(() => view.untrusted().size === 0, 10_000), `subscribed: ${JSON.stringify([...view.untrusted()])}`);
  // The SUB sockets' subscriptions reach the publishers a moment after they connect.
  await new Promise((r) => setTimeout(r, 300));
  return { hub, view, address };
}

for (const ingestion of ['worker', 'in-thread'] as const) {
  test(`${ingestion}: stored blocks reach the index; bad input is counted and logged once per pod`, async () => {
    const logs: string[] = [];
    const { hub, view, address } = await hubWith(ingestion, logs);
    try {
      assert.equal(view.ingestion, ingestion);
      const t = tokens(1, 6);
      await pubs[0]!.publish([stored(t)]);
      assert.ok(await waitFor(() => held(view, address(0), t) === 6), 'the stored blocks are in the index');
      assert.equal(held(view, address(1), t), 0);
      await pubs[1]!.raw([pubs[1]!.topic, encodeSeq(pubs[1]!.next)]);
      await pubs[1]!.raw([pubs[1]!.topic, encodeSeq(pubs[1]!.next)]);
      const f = view.feed(address(1))!;
      assert.ok(await waitFor(() => f.problems.get('frame-count') === 2), 'both counted');
      assert.ok(await waitFor(() => f.stream.untrusted() === 'recovering'), 'distrusted after bad input');
      assert.equal(logs.filter((l) => l.includes(address(1)) && l.includes('frame-count')).length, 1, 'logged once');
      assert.ok(f.subscribed);
      assert.ok(view.feed(address(0))!.stream.messages >= 1);
      // A skipped store is logged with what was wrong with it, not just its metric label.
      await pubs[0]!.publish([{ ...stored(tokens(2, 2)), tokenIds: tokens(2, 1) }]);
      const f0 = view.feed(address(0))!;
      assert.ok(await waitFor(() => f0.problems.get('token-count') === 1));
      assert.ok(logs.some((l) => l.includes(address(0)) && l.includes('token_ids are not len(block_hashes) x block_size')), logs.join('\n'));
      assert.ok(await waitFor(() => f.stream.untrusted() === undefined), 'recovers');
    } finally {
      await hub.close();
    }
  });
}

for (const ingestion of ['worker', 'in-thread'] as const) {
  test(`${ingestion}: requests that must make a pod store blocks, and no event, mark it silent until its next event`, async () => {
    const { hub, view, address } = await hubWith(ingestion, []);
    try {
      const f = view.feed(address(0))!;
      for (let i = 0; i < 3; i++) view.expectEvents(address(0));
      assert.ok(await waitFor(() => f.stream.untrusted() === 'silent', 5000), 'silent');
      assert.ok(await waitFor(() => f.problems.get('silent') === 1));
      const t = tokens(4, 2);
      await pubs[0]!.publish([stored(t)]);
      assert.ok(await waitFor(() => f.stream.untrusted() === undefined && held(view, address(0), t) === 2), 'trusted again with its next event');
    } finally {
      await hub.close();
    }
  });
}

for (const ingestion of ['worker', 'in-thread'] as const) {
  test(`${ingestion}: the plugin's silenceTimeout decides when a pod is silent, and off (0) never`, async () => {
    const short = await hubWith(ingestion, [], { setting: 300 });
    try {
      const f = short.view.feed(short.address(0))!;
      for (let i = 0; i < 3; i++) short.view.expectEvents(short.address(0));
      assert.ok(await waitFor(() => f.stream.untrusted() === 'silent', 5000), 'silent after 300 ms');
    } finally {
      await short.hub.close();
    }
    const off = await hubWith(ingestion, [], { setting: Number.POSITIVE_INFINITY });
    try {
      const f = off.view.feed(off.address(0))!;
      for (let i = 0; i < 3; i++) off.view.expectEvents(off.address(0));
      // Well past the 300 ms above (and the checks every 50 ms that would see it): still trusted.
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(f.stream.untrusted(), undefined);
      assert.equal(f.problems.get('silent'), undefined);
    } finally {
      await off.hub.close();
    }
  });
}

test('worker: a worker that dies is restarted; meanwhile the pods are distrusted and their entries dropped', async () => {
  const logs: string[] = [];
  const { hub, view, address } = await hubWith('worker', logs);
  try {
    const t = tokens(2, 4);
    await pubs[0]!.publish([stored(t)]);
    assert.ok(await waitFor(() => held(view, address(0), t) === 4));
    hub.worker!.crashForTest();
    assert.ok(await waitFor(() => hub.worker!.restarts === 1), 'the exit is seen');
    assert.ok(logs.some((l) => l.includes('ERROR') && l.includes('ingestion worker exited')), 'and reported');
    assert.equal(held(view, address(0), t), 0, 'entries that may miss removals are dropped');
    assert.ok(await waitFor(() => hub.worker!.running && view.untrusted().size === 0, 10_000), 'restarted, and the pods subscribed again');
    // The new worker replays the publisher's buffer (a proactive replay), then follows the live stream.
    assert.ok(await waitFor(() => held(view, address(0), t) === 4, 10_000), 'the replay brings the blocks back');
    await new Promise((r) => setTimeout(r, 300));
    const t2 = tokens(3, 5);
    await pubs[1]!.publish([stored(t2)]);
    assert.ok(await waitFor(() => held(view, address(1), t2) === 5), 'live events flow again');
  } finally {
    await hub.close();
  }
  assert.equal(hub.worker!.running, false, 'closing the hub ends the worker');
});

test('worker: a worker that cannot start is reported and retried, never thrown', async () => {
  const logs: string[] = [];
  const w = new IngestWorker({ log: createLogger('warn', (l) => logs.push(l)), restartMs: 20, url: new URL('./no-such-worker.js', import.meta.url) });
  try {
    assert.ok(await waitFor(() => w.restarts >= 2), 'retried with backoff');
    assert.ok(logs.some((l) => l.includes('ingestion worker')));
  } finally {
    await w.close();
  }
  assert.equal(w.running, false);
});

test('worker: closing the hub closes the worker and its sockets', async () => {
  const { hub } = await hubWith('worker', []);
  const worker = hub.worker!;
  assert.ok(worker.running);
  await hub.close();
  assert.equal(worker.running, false);
  // Closing twice is harmless.
  await hub.close();
});

test('worker: a process that exits without closing the hub exits with its own code (the worker closes its sockets first)', async () => {
  const { spawn } = await import('node:child_process');
  const hub = new URL('./kv-events-hub.js', import.meta.url).href;
  const settings = new URL('./kv-events-settings.js', import.meta.url).href;
  const logger = new URL('../logger.js', import.meta.url).href;
  const code = `
    import { KvEventsHub } from '${hub}';
    import { defaultKvEventsSettings } from '${settings}';
    import { createLogger } from '${logger}';
    const hub = new KvEventsHub({ log: createLogger('silent') });
    const view = hub.view(defaultKvEventsSettings());
    view.sync(new Map([['${hosts[0]}:8000', { endpoint: '${pubs[0]!.endpoint}' }]]));
    setTimeout(() => process.exit(7), 500);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(exit, 7, `exit code 7, not an abort: ${err}`);
});

for (const ingestion of ['worker', 'in-thread'] as const) {
  test(`${ingestion}: a topic naming another model than the pod serves is reported once, with the topic to set`, async (t) => {
    const host = ingestion === 'worker' ? '127.0.162.1' : '127.0.162.2';
    const pub = await KvTestPublisher.start(host, PUB_PORT, REPLAY_PORT, 'meta-llama/Llama-3.1-8B-Instruct');
    t.after(() => pub.close());
    const logs: string[] = [];
    const hub = new KvEventsHub({ log: createLogger('warn', (l) => logs.push(l)), ingestion, workerRestartMs: 50, stream: { recoveryMs: 1000 } });
    t.after(() => hub.close());
    const view = hub.view(defaultKvEventsSettings({ socketPort: PUB_PORT, replaySocketPort: REPLAY_PORT }));
    const address = `${host}:8000`;
    // vLLM started with --served-model-name llama: GET /v1/models lists `llama`, clients send `llama`.
    const owner = { models: new Map([['llama', { parent: null }]]) };
    view.sync(new Map([[address, { endpoint: pub.endpoint, replayEndpoint: pub.replayEndpoint, owner }]]));
    assert.ok(await waitFor(() => view.untrusted().size === 0, 10_000));
    await new Promise((r) => setTimeout(r, 300));
    const f = view.feed(address)!;
    for (let i = 0; i < 3; i++) await pub.publish([stored(tokens(10 + i, 2))]);
    assert.ok(await waitFor(() => f.stream.messages >= 3 && f.problems.get('topic-model') === 1), `problems: ${JSON.stringify([...f.problems])}`);
    const lines = logs.filter((l) => l.includes('topic-model'));
    assert.equal(lines.length, 1, 'logged once');
    assert.match(lines[0]!, /keys the blocks by model `meta-llama\/Llama-3\.1-8B-Instruct`, but the pod serves `llama`.*kv@<pod ip:port>@llama/);
    assert.equal(f.problems.get('topic-model'), 1, 'counted once, not per message');
  });
}

for (const ingestion of ['worker', 'in-thread'] as const) {
  test(`${ingestion}: another pod taking over an address is subscribed afresh; what the old one held is forgotten`, async (t) => {
    const host = ingestion === 'worker' ? '127.0.162.3' : '127.0.162.4';
    const pub = await KvTestPublisher.start(host, PUB_PORT, REPLAY_PORT, MODEL);
    t.after(() => pub.close());
    const hub = new KvEventsHub({ log: createLogger('silent'), ingestion, workerRestartMs: 50, stream: { recoveryMs: 1000 } });
    t.after(() => hub.close());
    const view = hub.view(defaultKvEventsSettings({ socketPort: PUB_PORT, replaySocketPort: REPLAY_PORT }));
    const address = `${host}:8000`;
    const owner = { models: new Map([[MODEL, { parent: null }]]) };
    const target = (pod: string) => new Map([[address, { endpoint: pub.endpoint, replayEndpoint: pub.replayEndpoint, owner, pod }]]);
    view.sync(target('default/vllm-a'));
    assert.ok(await waitFor(() => view.untrusted().size === 0, 10_000));
    await new Promise((r) => setTimeout(r, 300));
    const t1 = tokens(20, 4);
    await pub.publish([stored(t1)]);
    assert.ok(await waitFor(() => held(view, address, t1) === 4));
    const before = view.feed(address)!;
    view.sync(target('default/vllm-a'));
    assert.equal(view.feed(address), before, 'the same pod keeps its feed');
    // vllm-a was replaced by vllm-b at the same IP in one configuration change: a new engine, an empty cache.
    view.sync(target('default/vllm-b'));
    assert.notEqual(view.feed(address), before, 'a new feed');
    assert.equal(held(view, address, t1), 0, 'vllm-a\'s blocks are not vllm-b\'s');
  });
}

for (const ingestion of ['worker', 'in-thread'] as const) {
  test(`${ingestion}: central mode (zmqEndpoint): the gateway binds, pods connect, the topic names the pod; one subscriber counted`, async (t) => {
    const gw = ingestion === 'worker' ? '127.0.162.5' : '127.0.162.6';
    const pods = ingestion === 'worker' ? ['127.0.162.7', '127.0.162.8'] : ['127.0.162.9', '127.0.162.10'];
    const logs: string[] = [];
    const hub = new KvEventsHub({ log: createLogger('warn', (l) => logs.push(l)), ingestion, workerRestartMs: 50, stream: { recoveryMs: 1000 } });
    t.after(() => hub.close());
    const view = hub.view(defaultKvEventsSettings({ zmqEndpoint: `tcp://${gw}:5557`, discoverPods: false }));
    const owner = { models: new Map([[MODEL, { parent: null }]]) };
    view.sync(new Map(pods.map((ip) => [`${ip}:8000`, { endpoint: '', owner, pod: `default/${ip}` }])));
    // Each pod's vLLM connects its PUB socket to the gateway (an endpoint without *), as in llm-d's older guides.
    const pubs = pods.map((ip) => {
      const pub = new Publisher({ linger: 0 });
      pub.connect(`tcp://${gw}:5557`);
      t.after(() => pub.close());
      return { pub, topic: `kv@${ip}:8000@${MODEL}`, seq: 0 };
    });
    const t1 = tokens(30, 3);
    // ZMQ's slow joiner: send until the bound socket hears the first store (bounded in time, not in tries: a loaded
    // machine took more than 100 tries of 50 ms).
    for (const end = Date.now() + 20_000; Date.now() < end && held(view, `${pods[1]}:8000`, t1) === 0; ) {
      const p = pubs[1]!;
      await p.pub.send(encodeKvEventMessage(p.topic, p.seq++, { ts: 0, events: [stored(t1)], dataParallelRank: null }));
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(await waitFor(() => held(view, `${pods[1]}:8000`, t1) === 3), 'the store reached the pod its topic names');
    assert.equal(held(view, `${pods[0]}:8000`, t1), 0);
    assert.equal(view.feed(`${pods[1]}:8000`)!.stream.untrusted(), undefined, 'heard from: trusted');
    const family = kvEventsFamilies(() => hub).find((f) => f.name === 'llm_d_epp_kv_cache_events_active_subscribers')!;
    assert.deepEqual((await family.get()).values.map((v) => v.value), [1], 'the one bound socket, as llm-d counts its local subscriber');

    // A topic naming the pod otherwise than the pool does (its name): dropped, and said once.
    const p0 = pubs[0]!;
    // This PUB socket may not be joined yet either (its messages are then dropped): send until one is heard.
    for (let i = 0, end = Date.now() + 20_000; Date.now() < end && !logs.some((l) => l.includes('names no endpoint of the pools')); i++) {
      await p0.pub.send(encodeKvEventMessage(`kv@vllm-0@${MODEL}`, p0.seq++, { ts: 0, events: [stored(tokens(40 + (i % 3), 1))], dataParallelRank: null }));
      await new Promise((r) => setTimeout(r, 50));
    }
    // A few more after it was heard: still said once.
    for (let i = 0; i < 3; i++) await p0.pub.send(encodeKvEventMessage(`kv@vllm-0@${MODEL}`, p0.seq++, { ts: 0, events: [stored(tokens(40 + i, 1))], dataParallelRank: null }));
    assert.ok(logs.some((l) => l.includes('names no endpoint of the pools')), logs.join('\n'));
    await new Promise((r) => setTimeout(r, 200));
    const stray = logs.filter((l) => l.includes('names no endpoint of the pools'));
    assert.equal(stray.length, 1);
    assert.match(stray[0]!, /topic "kv@vllm-0@m" .*must be kv@<pod ip:port>@<model>/);
  });
}

for (const ingestion of ['worker', 'in-thread'] as const) {
  test(`${ingestion}: skipped stores and removals are counted as llm-d counts them, by cache kind and reason`, async (t) => {
    const host = ingestion === 'worker' ? '127.0.162.11' : '127.0.162.12';
    const pub = await KvTestPublisher.start(host, PUB_PORT, REPLAY_PORT, MODEL);
    t.after(() => pub.close());
    const hub = new KvEventsHub({ log: createLogger('silent'), ingestion, workerRestartMs: 50, stream: { recoveryMs: 1000 } });
    t.after(() => hub.close());
    const view = hub.view(defaultKvEventsSettings({ socketPort: PUB_PORT, replaySocketPort: REPLAY_PORT }));
    const address = `${host}:8000`;
    view.sync(new Map([[address, { endpoint: pub.endpoint, replayEndpoint: pub.replayEndpoint, owner: { models: new Map([[MODEL, { parent: null }]]) }, pod: 'default/a' }]]));
    assert.ok(await waitFor(() => view.untrusted().size === 0, 10_000));
    await new Promise((r) => setTimeout(r, 300));
    // A hybrid model (Gemma 3): a sliding-window group's blocks and their removal; a removal of a group never described; a store whose tokens do not fill its blocks.
    await pub.publish([
      { ...stored(tokens(50, 2)), groupIdx: 1, kvCacheSpecKind: 'sliding_window' },
      { type: 'BlockRemoved', blockHashes: [hashes - 1n], medium: 'GPU', groupIdx: 1 },
      { type: 'BlockRemoved', blockHashes: [7n], medium: 'GPU', groupIdx: 3 },
      { ...stored(tokens(51, 2)), tokenIds: tokens(51, 1) },
      { ...stored(tokens(52, 2)), groupIdx: 0, kvCacheSpecKind: 'full_attention' },
    ]);
    const families = kvEventsFamilies(() => hub);
    const values = async (name: string): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const v of (await families.find((f) => f.name === name)!.get()).values) out[`${v.sharedLabels!.cache_kind}/${v.sharedLabels!.reason}`] = v.value;
      return out;
    };
    assert.ok(await waitFor(() => held(view, address, tokens(52, 2)) === 2), 'the full-attention group is indexed');
    let stores: Record<string, number> = {};
    assert.ok(await waitFor(async () => Object.keys((stores = await values('llm_d_epp_kv_cache_events_stores_skipped_total'))).length === 2), JSON.stringify(stores));
    assert.deepEqual(stores, { 'sliding_window/unsupported_cache_kind': 1, 'unknown/non_dense_block_span': 1 });
    assert.deepEqual(await values('llm_d_epp_kv_cache_events_removals_skipped_total'), { 'sliding_window/unsupported_cache_kind': 1, 'unknown/unknown_group': 1 });
  });
}

for (const ingestion of ['worker', 'in-thread'] as const) {
  test(`${ingestion}: replays are counted per pod as llm-d counts them (active, completed, failed, batches, last completion)`, async (t) => {
    // Loopback 127.0.219.x: this test's.
    const host = ingestion === 'worker' ? '127.0.219.10' : '127.0.219.11';
    const pub = await KvTestPublisher.start(host, PUB_PORT, REPLAY_PORT, MODEL);
    t.after(() => pub.close());
    // Published before anyone listens: only the replay on connecting brings them.
    for (let i = 0; i < 3; i++) await pub.publish([stored(tokens(60 + i, 2))], false);
    // A second pod whose replay socket takes the request and never answers.
    const silent = new Router({ linger: 0 });
    await silent.bind(`tcp://${host}:5560`);
    t.after(() => silent.close());
    const pub2 = await KvTestPublisher.start(host, 5561, 5562, MODEL);
    t.after(() => pub2.close());
    const logs: string[] = [];
    const hub = new KvEventsHub({ log: createLogger('warn', (l) => logs.push(l)), ingestion, workerRestartMs: 50, stream: { recoveryMs: 1000 }, subscription: { replayIdleMs: 300 } });
    t.after(() => hub.close());
    const view = hub.view(defaultKvEventsSettings({ socketPort: PUB_PORT, replaySocketPort: REPLAY_PORT }));
    const [a, b] = [`${host}:8000`, `${host}:8001`];
    const owner = { models: new Map([[MODEL, { parent: null }]]) };
    view.sync(new Map([
      [a, { endpoint: pub.endpoint, replayEndpoint: pub.replayEndpoint, owner }],
      [b, { endpoint: pub2.endpoint, replayEndpoint: `tcp://${host}:5560`, owner }],
    ]));
    const families = kvEventsFamilies(() => hub);
    const series = async (name: string): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const v of (await families.find((f) => f.name === name)!.get()).values) out[v.sharedLabels!.pod_identifier!] = v.value;
      return out;
    };
    const before = Date.now() / 1000;
    assert.ok(await waitFor(() => held(view, a, tokens(62, 2)) === 2, 10_000), 'the replay on connecting brought the batches');
    let failures: Record<string, number> = {};
    assert.ok(await waitFor(async () => (failures = await series('llm_d_epp_kv_cache_events_replay_failures_total'))[b] === 1, 10_000), JSON.stringify(failures));
    assert.deepEqual(failures, { [a]: 0, [b]: 1 });
    assert.ok(await waitFor(async () => (await series('llm_d_epp_kv_cache_events_replay_completed_total'))[a] === 1, 5000));
    assert.deepEqual(await series('llm_d_epp_kv_cache_events_replay_completed_total'), { [a]: 1, [b]: 0 });
    assert.deepEqual(await series('llm_d_epp_kv_cache_events_replay_processed_total'), { [a]: 3, [b]: 0 });
    assert.deepEqual(await series('llm_d_epp_kv_cache_events_replay_active'), { [a]: 0, [b]: 0 });
    const last = await series('llm_d_epp_kv_cache_events_replay_last_completion_timestamp_seconds');
    assert.deepEqual(Object.keys(last), [a], 'absent until a replay completes');
    assert.ok(last[a]! >= before - 1 && last[a]! <= Date.now() / 1000 + 1, `a Unix time: ${last[a]}`);
    // The failure is told about the replay socket, by its address, with what to check (not the PUB socket's).
    const failed = logs.filter((l) => l.includes(b) && l.includes('replay'));
    assert.ok(failed.length >= 2 && failed.every((l) => l.includes(`zmq=tcp://${host}:5560`)), failed.join('\n'));
    assert.ok(failed.some((l) => l.includes(`no reply from tcp://${host}:5560 for 300 ms; is vLLM's replay_endpoint bound on that port`)), failed.join('\n'));
  });
}

for (const ingestion of ['worker', 'in-thread'] as const) {
  test(`${ingestion}: a topic naming no model after its pod (kv@<pod>@) keys the blocks by the base model the pod lists`, async (t) => {
    // Loopback 127.0.219.x: this test's.
    const host = ingestion === 'worker' ? '127.0.219.12' : '127.0.219.13';
    const pub = await KvTestPublisher.start(host, PUB_PORT, REPLAY_PORT, '');
    t.after(() => pub.close());
    const logs: string[] = [];
    const hub = new KvEventsHub({ log: createLogger('warn', (l) => logs.push(l)), ingestion, workerRestartMs: 50 });
    t.after(() => hub.close());
    const view = hub.view(defaultKvEventsSettings({ socketPort: PUB_PORT, replaySocketPort: REPLAY_PORT }));
    const address = `${host}:8000`;
    view.sync(new Map([[address, { endpoint: pub.endpoint, replayEndpoint: pub.replayEndpoint, owner: { models: new Map([[MODEL, { parent: null }]]) } }]]));
    assert.ok(await waitFor(() => view.untrusted().size === 0, 10_000));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(pub.topic, `kv@${host}@`);
    const t1 = tokens(70, 3);
    await pub.publish([stored(t1)]);
    assert.ok(await waitFor(() => held(view, address, t1) === 3), `indexed under ${MODEL}: ${logs.join('\n')}`);
    const f = view.feed(address)!;
    assert.deepEqual([f.problems.get('no-model'), f.problems.get('topic-model')], [undefined, undefined]);
  });
}
