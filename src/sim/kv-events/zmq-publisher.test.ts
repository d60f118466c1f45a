/** The publisher's replay socket answers every buffered batch, however many. Loopback 127.0.246.x is this file's. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dealer } from 'zeromq';
import type { KvEventBatch } from '../../kvevents/wire-format.js';
import { decodeReplayReply, encodeReplayRequest } from '../../kvevents/wire-format.js';
import { parseKvEventsConfig } from './kv-events-config.js';
import { ZmqKvEventPublisher } from './zmq-publisher.js';

const HOST = '127.0.246.40';
/** Three times the ROUTER's high-water mark (1000 messages); a busy engine's buffer (10,000 by default) holds more. */
const BATCHES = 3000;
/** Blocks per batch: a 512-token prompt's, about 2.5 kB a batch, more than the TCP buffers between them hold. */
const BLOCKS = 32;

function batch(i: number): KvEventBatch {
  const tokenIds = Array.from({ length: BLOCKS * 16 }, (_, k) => i * BLOCKS * 16 + k);
  return {
    ts: i,
    dataParallelRank: 0,
    events: [{
      type: 'BlockStored', blockHashes: Array.from({ length: BLOCKS }, (_, k) => BigInt(i * BLOCKS + k + 1)), parentBlockHash: null, tokenIds, blockSize: 16,
      loraId: null, medium: 'GPU', loraName: null, extraKeys: null, groupIdx: null, kvCacheSpecKind: null, kvCacheSpecSlidingWindow: null,
    }],
  };
}

test('a replay of a buffer past the ROUTER\'s high-water mark brings every batch in order, then the end marker, to a client that reads late', async (t) => {
  const config = parseKvEventsConfig({
    enable_kv_cache_events: true, endpoint: `tcp://${HOST}:*`, replay_endpoint: `tcp://${HOST}:*`, buffer_steps: BATCHES, topic: 'kv@x:1@m',
  });
  const publisher = await ZmqKvEventPublisher.start(config, { host: HOST, format: 'map', warn: () => {} });
  t.after(() => publisher.close());
  for (let i = 0; i < BATCHES; i++) publisher.publish(batch(i));

  const dealer = new Dealer({ linger: 0, receiveTimeout: 2000 });
  t.after(() => dealer.close());
  dealer.connect(publisher.replayEndpoint!);
  await dealer.send(encodeReplayRequest(0));
  // A busy subscriber (the gateway's worker applying another pod's replay) does not read at once.
  await new Promise((r) => setTimeout(r, 300));
  const seqs: number[] = [];
  let ended = false;
  for (let i = 0; i <= BATCHES && !ended; i++) {
    let frames;
    try {
      frames = await dealer.receive();
    } catch {
      break; // nothing more within 2 s: what came is checked below
    }
    const reply = decodeReplayReply(frames);
    if (reply.kind === 'end') ended = true;
    else seqs.push(reply.seq);
  }
  assert.deepEqual(seqs, seqs.map((_, i) => i), 'in order, without gaps');
  assert.equal(seqs.length, BATCHES, 'no batch was dropped');
  assert.equal(ended, true, 'the end marker came');
});

test('a port already taken is reported with the field and the address it was bound as', async (t) => {
  const config = (replay: string) => parseKvEventsConfig({ enable_kv_cache_events: true, endpoint: 'tcp://*:*', replay_endpoint: replay, topic: 'kv@x:1@m' });
  const first = await ZmqKvEventPublisher.start(config(`tcp://${HOST}:*`), { host: HOST, format: 'map', warn: () => {} });
  t.after(() => first.close());
  const taken = first.replayEndpoint!.split(':').at(-1)!;
  await assert.rejects(
    ZmqKvEventPublisher.start(config(`tcp://*:${taken}`), { host: HOST, format: 'map', warn: () => {} }),
    { message: `KV events: cannot open \`replay_endpoint\` tcp://*:${taken} (tcp://${HOST}:${taken}): Address already in use; another process (a simulator with the same --host?) holds the port: give each pod its own --host or port` },
  );
});
