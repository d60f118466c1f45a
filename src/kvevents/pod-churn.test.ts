/**
 * Pods leaving while their streams are still busy: a pod removed mid-replay must leave nothing behind, not even
 * through the index id the next pod reuses (in-thread ingestion numbers pods by reusable index ids). Real ZMQ
 * sockets on loopback 127.0.219.x, this file's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Router } from 'zeromq';
import { KvTestPublisher } from '../../test/helpers/kv-test-publisher.js';
import { waitFor } from '../../test/helpers/fleet.js';
import { createLogger } from '../logger.js';
import { KvEventsHub } from './kv-events-hub.js';
import { defaultKvEventsSettings } from './kv-events-settings.js';
import type { BlockStoredEvent } from './wire-format.js';

const MODEL = 'm';
const BS = 16;

function stored(tokens: number[]): BlockStoredEvent {
  const n = Math.floor(tokens.length / BS);
  return { type: 'BlockStored', blockHashes: Array.from({ length: n }, (_, i) => 7000n + BigInt(i)), parentBlockHash: null, tokenIds: tokens, blockSize: BS, loraId: null, medium: 'GPU', loraName: null, extraKeys: null, groupIdx: null, kvCacheSpecKind: null, kvCacheSpecSlidingWindow: null };
}

test('in-thread: a pod removed while its replay runs leaves no blocks to the pod that takes its index id', async (t) => {
  const pub = await KvTestPublisher.start('127.0.219.2', 5557, 5559, MODEL);
  t.after(() => pub.close());
  // A replay socket that takes requests and never answers: the replay is still running when the pod leaves.
  const silent = new Router({ linger: 0 });
  await silent.bind('tcp://127.0.219.2:5560');
  t.after(() => silent.close());
  const hub = new KvEventsHub({ log: createLogger('error', () => undefined), ingestion: 'in-thread', subscription: { replayIdleMs: 30_000 } });
  t.after(() => hub.close());
  const view = hub.view(defaultKvEventsSettings({ socketPort: 5557, replaySocketPort: 5560 }));
  const owner = { models: new Map([[MODEL, { parent: null }]]) };
  const a = '127.0.219.2:8000';
  view.sync(new Map([[a, { endpoint: pub.endpoint, replayEndpoint: 'tcp://127.0.219.2:5560', owner }]]));
  assert.ok(await waitFor(() => view.untrusted().get(a) === 'replaying', 10_000), 'the replay runs');
  const tokens = Array.from({ length: 4 * BS }, (_, i) => 1 + i);
  // Live messages are kept while the replay runs; send until one is (the SUB socket joins a moment after connecting).
  for (let i = 0; i < 100 && view.feed(a)!.stream.messages === 0; i++) {
    await pub.publish([stored(tokens)]);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(view.feed(a)!.stream.messages > 0, 'a live message is kept for after the replay');
  const idOfA = view.index.findPod(a);

  // The pod leaves and another joins at once: it gets the index id the first one had.
  const b = '127.0.219.3:8000';
  view.sync(new Map([[b, { endpoint: 'tcp://127.0.219.3:5557', owner }]]));
  assert.equal(view.index.findPod(b), idOfA, 'the id is reused');
  await new Promise((r) => setTimeout(r, 300));
  const r = view.index.lookup(view.hasher.keys(tokens, MODEL));
  assert.equal(r.size, 0, `no pod holds the blocks: ${JSON.stringify(Array.from({ length: r.size }, (_, i) => view.addressOf(r.pods[i]!)))}`);
  assert.equal(view.index.heldBy(idOfA), 0);
  assert.deepEqual([...view.feed(b)!.problems], [], 'nothing of the first pod is counted against the second');
});
