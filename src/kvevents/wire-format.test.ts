import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { decode, encode } from '@msgpack/msgpack';
import {
  type BlockStoredEvent, type KvCacheEvent, type KvEventBatch, type KvEventDecodeFailure, KvEventDecodeError,
  decodeKvEventBatch, decodeKvEventMessage, decodeReplayReply, decodeSeq, encodeKvEventBatch, encodeKvEventMessage,
  encodeReplayEnd, encodeReplayRequest, encodeSeq, parseKvEventTopic,
} from './wire-format.js';

const TOKENS = Array.from({ length: 16 }, (_, i) => 1000 + i);
const STORED: BlockStoredEvent = {
  type: 'BlockStored', blockHashes: [15760518052499183552n], parentBlockHash: null, tokenIds: TOKENS, blockSize: 16,
  loraId: null, medium: 'GPU', loraName: null, extraKeys: null, groupIdx: null, kvCacheSpecKind: null, kvCacheSpecSlidingWindow: null,
};
const EVENTS: KvCacheEvent[] = [
  STORED,
  { ...STORED, blockHashes: [1n, 2n ** 64n - 1n], parentBlockHash: 15760518052499183552n, tokenIds: [...TOKENS, ...TOKENS], loraName: 'sql-lora', extraKeys: [['sql-lora'], null], groupIdx: 0, kvCacheSpecKind: 'full_attention' },
  { type: 'BlockRemoved', blockHashes: [15760518052499183552n, 7n], medium: 'GPU', groupIdx: null },
  { type: 'AllBlocksCleared' },
];
const BATCH: KvEventBatch = { ts: 1789095808.83, events: EVENTS, dataParallelRank: 0 };
const raw = (b: Uint8Array): unknown => decode(b, { useBigInt64: true });
/** Strips the decoder's notes, to compare with what was encoded. */
const plain = ({ ts, events, dataParallelRank }: KvEventBatch): KvEventBatch => ({ ts, events, dataParallelRank });

describe('KV-event wire format', () => {
  for (const format of ['map', 'legacy'] as const) {
    it(`round-trips every event type in the ${format} encoding`, () => {
      const decoded = decodeKvEventBatch(encodeKvEventBatch(BATCH, format));
      assert.deepEqual(plain(decoded), BATCH);
      assert.deepEqual(decoded.unknownEventTypes, []);
      assert.equal(decoded.hashesAsBytes, 0);
    });
  }

  it('decodes the vLLM 0.26.0 capture from ANCHORS §3b (map events, positional batch)', () => {
    const capture = encode([1789095808.83, [{
      type: 'BlockStored', block_hashes: [15760518052499183552n], parent_block_hash: null, token_ids: TOKENS, block_size: 16,
      lora_id: null, medium: 'GPU', lora_name: null, extra_keys: [null], group_idx: 0, kv_cache_spec_kind: 'full_attention',
    }], 0], { useBigInt64: true });
    const b = decodeKvEventBatch(capture);
    assert.equal(b.dataParallelRank, 0);
    assert.deepEqual(b.events[0], { ...STORED, extraKeys: [null], groupIdx: 0, kvCacheSpecKind: 'full_attention' });
  });

  it('decodes a legacy tagged array with its trailing defaults omitted, and a batch without dp_rank', () => {
    const legacy = encode([1.5, [['BlockStored', [5], 4, TOKENS, 16, null, 'GPU', null], ['BlockRemoved', [5], 'GPU'], ['AllBlocksCleared']]]);
    const b = decodeKvEventBatch(legacy);
    assert.equal(b.dataParallelRank, null);
    assert.deepEqual(b.events, [
      { ...STORED, blockHashes: [5n], parentBlockHash: 4n },
      { type: 'BlockRemoved', blockHashes: [5n], medium: 'GPU', groupIdx: null },
      { type: 'AllBlocksCleared' },
    ]);
  });

  it('encodes as msgspec does: legacy keeps required nulls and drops trailing defaults; map drops defaulted nulls only', () => {
    const legacy = raw(encodeKvEventBatch({ ts: 1.5, events: [STORED, EVENTS[2]!], dataParallelRank: null }, 'legacy')) as unknown[];
    assert.equal(legacy.length, 2, 'dp_rank omitted when null');
    assert.deepEqual(legacy[1], [
      ['BlockStored', [15760518052499183552n], null, TOKENS, 16, null, 'GPU', null],
      ['BlockRemoved', [15760518052499183552n, 7n], 'GPU'],
    ]);
    const map = raw(encodeKvEventBatch({ ts: 1.5, events: [STORED], dataParallelRank: 0 }, 'map')) as unknown[];
    assert.deepEqual(map, [1.5, [{
      type: 'BlockStored', block_hashes: [15760518052499183552n], parent_block_hash: null, token_ids: TOKENS, block_size: 16,
      lora_id: null, medium: 'GPU', lora_name: null,
    }], 0]);
    assert.equal(Object.keys((map[1] as Record<string, unknown>[])[0]!)[0], 'type', 'the tag comes first, as msgspec writes it');
  });

  it('reads byte-string hashes as llm-d does (last 8 bytes, big-endian) and counts them', () => {
    const digest = createHash('sha256').update('block').digest();
    const b = decodeKvEventBatch(encode([0, [['BlockRemoved', [digest, 9], 'GPU']]]));
    assert.deepEqual(b.events[0], { type: 'BlockRemoved', blockHashes: [digest.readBigUInt64BE(24), 9n], medium: 'GPU', groupIdx: null });
    assert.equal(b.hashesAsBytes, 1);
  });

  it('skips unknown event types and names them', () => {
    const b = decodeKvEventBatch(encode([0, [{ type: 'BlockOffloaded', x: 1 }, ['AllBlocksCleared']]]));
    assert.deepEqual(b.events, [{ type: 'AllBlocksCleared' }]);
    assert.deepEqual(b.unknownEventTypes, ['BlockOffloaded']);
  });

  it('accepts a map batch {ts, events, data_parallel_rank}', () => {
    const b = decodeKvEventBatch(encode({ ts: 2, events: [{ type: 'AllBlocksCleared' }], data_parallel_rank: 1 }));
    assert.deepEqual(plain(b), { ts: 2, events: [{ type: 'AllBlocksCleared' }], dataParallelRank: 1 });
  });

  it('frames a message as [topic, 8-byte big-endian seq, payload] and decodes it back', () => {
    const frames = encodeKvEventMessage('kv@127.0.94.1:8000@m', 258, BATCH, 'legacy');
    assert.equal(frames.length, 3);
    assert.deepEqual([...frames[1]!], [0, 0, 0, 0, 0, 0, 1, 2]);
    const m = decodeKvEventMessage(frames);
    assert.equal(m.topic, 'kv@127.0.94.1:8000@m');
    assert.equal(m.seq, 258);
    assert.deepEqual(plain(m.batch), BATCH);
  });

  const bad: { name: string; frames: Uint8Array[]; reason: KvEventDecodeFailure }[] = [
    { name: 'two frames', frames: [Buffer.from('kv@a@m'), encodeSeq(0)], reason: 'frame-count' },
    { name: 'four frames', frames: [Buffer.from('kv@a@m'), encodeSeq(0), encode([0, []]), Buffer.alloc(0)], reason: 'frame-count' },
    { name: 'a 4-byte seq', frames: [Buffer.from('kv@a@m'), Buffer.alloc(4), encode([0, []])], reason: 'short-seq' },
    { name: 'the end marker on PUB', frames: [Buffer.from('kv@a@m'), encodeSeq(-1), encode([0, []])], reason: 'bad-seq' },
    { name: 'undecodable msgpack', frames: [Buffer.from('kv@a@m'), encodeSeq(0), Buffer.from([0xc1])], reason: 'msgpack' },
    { name: 'a string payload', frames: [Buffer.from('kv@a@m'), encodeSeq(0), encode('hi')], reason: 'batch-shape' },
    { name: 'events not a list', frames: [Buffer.from('kv@a@m'), encodeSeq(0), encode([0, 5])], reason: 'batch-shape' },
    { name: 'string token ids', frames: [Buffer.from('kv@a@m'), encodeSeq(0), encode([0, [['BlockStored', [1], null, ['a'], 16, null, 'GPU', null]]])], reason: 'event-shape' },
    { name: 'a float hash', frames: [Buffer.from('kv@a@m'), encodeSeq(0), encode([0, [['BlockRemoved', [1.5], 'GPU']]])], reason: 'event-shape' },
    { name: 'an untagged event', frames: [Buffer.from('kv@a@m'), encodeSeq(0), encode([0, [[7]]])], reason: 'event-shape' },
  ];
  for (const c of bad) {
    it(`rejects ${c.name} with reason ${c.reason}`, () => {
      assert.throws(() => decodeKvEventMessage(c.frames), (e: unknown) => e instanceof KvEventDecodeError && e.reason === c.reason);
    });
  }

  it('encodes and decodes sequence numbers, with -1 as the replay end marker', () => {
    for (const seq of [0, 1, 2 ** 40, Number.MAX_SAFE_INTEGER]) assert.equal(decodeSeq(encodeSeq(seq)), seq);
    assert.deepEqual([...encodeSeq(-1)], [255, 255, 255, 255, 255, 255, 255, 255]);
    assert.equal(decodeSeq(encodeSeq(-1)), -1);
    assert.equal(decodeSeq(Buffer.from([0, 0, 0, 0, 0, 0, 0, 3, 9])), 3, 'reads the first 8 bytes, as llm-d does');
  });

  it('decodes replay replies with or without the topic and the DEALER delimiter', () => {
    const payload = encodeKvEventBatch(BATCH);
    const empty = Buffer.alloc(0);
    for (const [frames, topic] of [
      [[encodeSeq(7), payload], null],
      [[empty, encodeSeq(7), payload], null],
      [[Buffer.from('kv@p@m'), encodeSeq(7), payload], 'kv@p@m'],
      [[empty, Buffer.from('kv@p@m'), encodeSeq(7), payload], 'kv@p@m'],
    ] as const) {
      const r = decodeReplayReply(frames);
      assert.equal(r.kind, 'batch');
      if (r.kind === 'batch') {
        assert.equal(r.topic, topic);
        assert.equal(r.seq, 7);
        assert.deepEqual(plain(r.batch), BATCH);
      }
    }
    assert.deepEqual(decodeReplayReply(encodeReplayEnd()), { kind: 'end' });
    assert.deepEqual(decodeReplayReply([empty, ...encodeReplayEnd()]), { kind: 'end' });
    assert.deepEqual(encodeReplayRequest(5).map((f) => [...f]), [[], [0, 0, 0, 0, 0, 0, 0, 5]]);
  });

  it('splits the kv@<pod>@<model> topic', () => {
    assert.deepEqual(parseKvEventTopic('kv@10.0.0.1:8000@meta-llama/Llama-3.1-8B'), { pod: '10.0.0.1:8000', model: 'meta-llama/Llama-3.1-8B' });
    assert.deepEqual(parseKvEventTopic('kv@p@a@b'), { pod: 'p', model: 'a@b' });
    assert.equal(parseKvEventTopic('metrics@p@m'), null);
    assert.equal(parseKvEventTopic('kv@@m'), null);
  });
});
