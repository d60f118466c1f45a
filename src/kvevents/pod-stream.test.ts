import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode } from '@msgpack/msgpack';
import { PodStream } from './pod-stream.js';
import type { PodStreamOptions, StreamProblem } from './pod-stream-contract.js';
import { encodeKvEventMessage, encodeReplayEnd, encodeSeq, type KvCacheEvent } from './wire-format.js';

const TOPIC = 'kv@10.0.0.1:8000@m';
const CLEARED: KvCacheEvent = { type: 'AllBlocksCleared' };

/** A stream on a manual clock, recording what it asks of its sink. */
function harness(o: Partial<PodStreamOptions> = {}) {
  let now = 1_000_000;
  const applied: number[] = [];
  const problems: StreamProblem[] = [];
  const replays: number[] = [];
  let clears = 0;
  const stream = new PodStream(
    {
      // Each test batch carries its own sequence number as its timestamp.
      apply: (_topic, batch) => applied.push(batch.ts),
      clear: () => clears++,
      replay: (from) => replays.push(from),
      problem: (p, _d, n = 1) => {
        for (let i = 0; i < n; i++) problems.push(p);
      },
    },
    { recoveryMs: 1000, ...o },
    () => now,
  );
  /** Frames of batch `seq` (one AllBlocksCleared event, whatever; ts = seq unless given: another publisher's). */
  const msg = (seq: number, ts = seq): Buffer[] => encodeKvEventMessage(TOPIC, seq, { ts, events: [CLEARED], dataParallelRank: null });
  const send = (...seqs: number[]): void => {
    for (const s of seqs) stream.live(msg(s));
  };
  const reply = (seq: number, ts = seq): void => {
    const [, s, payload] = msg(seq, ts);
    stream.replayReply([Buffer.alloc(0), s!, payload!]);
  };
  return {
    stream, applied, problems, replays, msg, send, reply,
    get clears() {
      return clears;
    },
    advance: (ms: number) => (now += ms),
    end: () => stream.replayReply([Buffer.alloc(0), ...encodeReplayEnd()]),
  };
}

describe('PodStream: sequence and replay', () => {
  it('applies in order, drops duplicates, and is trusted once connected', () => {
    const h = harness();
    assert.equal(h.stream.untrusted(), 'connecting');
    h.stream.connected();
    h.send(0, 1, 1, 2);
    assert.deepEqual(h.applied, [0, 1, 2]);
    assert.equal(h.stream.untrusted(), undefined);
  });

  it('without a replay socket, a gap drops the pod\'s entries and distrusts it for the recovery time', () => {
    const h = harness();
    h.stream.connected();
    h.send(0, 1, 5);
    assert.deepEqual(h.applied, [0, 1, 5]);
    assert.equal(h.clears, 1);
    assert.ok(h.problems.includes('gap'));
    assert.equal(h.stream.untrusted(), 'recovering');
    h.advance(1001);
    assert.equal(h.stream.untrusted(), undefined);
  });

  it('with a replay socket, replays from 0 on connecting, then applies what arrived meanwhile', () => {
    const h = harness({ replay: true });
    h.stream.connected();
    assert.deepEqual(h.replays, [0]);
    assert.equal(h.stream.untrusted(), 'replaying');
    h.send(3); // live, buffered while the replay runs
    h.reply(0);
    h.reply(1);
    h.reply(2);
    h.end();
    assert.deepEqual(h.applied, [0, 1, 2, 3]);
    assert.equal(h.clears, 0);
    assert.equal(h.stream.untrusted(), undefined);
  });

  it('fills a gap by replay, from the last sequence number applied', () => {
    const h = harness({ replay: true });
    h.stream.connected();
    h.end(); // nothing buffered yet
    h.send(0, 1, 4);
    assert.deepEqual(h.replays, [0, 2]);
    h.reply(2);
    h.reply(3);
    h.end();
    assert.deepEqual(h.applied, [0, 1, 2, 3, 4]);
    assert.equal(h.clears, 0);
  });

  it('a replay that no longer reaches back to the gap counts as a gap: entries dropped', () => {
    const h = harness({ replay: true });
    h.stream.connected();
    h.end();
    h.send(0, 9);
    for (const s of [5, 6, 7, 8, 9]) h.reply(s); // the buffer starts at 5 now
    h.end();
    assert.equal(h.clears, 1);
    assert.ok(h.problems.includes('gap'));
    assert.deepEqual(h.applied, [0, 5, 6, 7, 8, 9]);
  });

  it('a replay with batches missing in its middle (vLLM\'s ROUTER drops them for a slow reader) drops the entries', () => {
    const h = harness({ replay: true });
    h.stream.connected();
    for (const s of [0, 1, 2, 5, 6]) h.reply(s); // 3 and 4 never came
    h.end();
    assert.equal(h.clears, 1, 'what 0-2 stored may have been removed by 3 or 4');
    assert.ok(h.problems.includes('gap'));
    assert.equal(h.stream.untrusted(), 'recovering');
    assert.deepEqual(h.applied, [0, 1, 2, 5, 6]);
  });

  it('a replay that times out fails once, and the gap it was to fill drops the entries', () => {
    const h = harness({ replay: true });
    h.stream.connected();
    h.end();
    h.send(0, 3);
    h.stream.replayEnd(false);
    assert.ok(h.problems.includes('replay-failed') && h.problems.includes('gap'));
    assert.equal(h.clears, 1);
    // In cooldown: the next gap is not replayed.
    h.send(7);
    assert.equal(h.replays.length, 2);
  });

  it('a publisher restart (sequence going back) drops the entries and follows the new numbers', () => {
    const h = harness();
    h.stream.connected();
    h.send(0, 1, 2, 0, 1);
    assert.equal(h.clears, 1);
    assert.ok(h.problems.includes('sequence-reset'));
    assert.deepEqual(h.applied, [0, 1, 2, 0, 1]);
    assert.equal(h.stream.untrusted(), undefined);
  });

  it('after a reconnection without replay, is not trusted until a live message shows nothing was lost', () => {
    const h = harness();
    h.stream.connected();
    h.send(0);
    h.stream.disconnected();
    assert.equal(h.stream.untrusted(), 'disconnected');
    h.stream.connected();
    assert.equal(h.stream.untrusted(), 'resyncing');
    h.send(1);
    assert.equal(h.stream.untrusted(), undefined);
    assert.equal(h.clears, 0);
  });

  it('after a reconnection with replay, proves the publisher by the last batch applied, then catches up', () => {
    const h = harness({ replay: true });
    h.stream.connected();
    h.end();
    h.send(0);
    h.stream.disconnected();
    h.stream.connected();
    assert.deepEqual(h.replays, [0, 0]);
    h.reply(0); // the same batch as applied (same timestamp): the same publisher
    h.reply(1);
    h.end();
    assert.deepEqual(h.applied, [0, 1]);
    assert.equal(h.clears, 0);
    assert.equal(h.stream.untrusted(), undefined);
    // Two replays completed; only the batch the second brought anew counts as processed.
    assert.deepEqual(h.stream.replays, { active: false, completed: 2, failed: 0, processed: 1, lastCompletedAt: 1_000_000 });
  });

  it('a publisher restarted while disconnected, with fewer batches than before: entries dropped, its history replayed from 0', () => {
    const h = harness({ replay: true });
    h.stream.connected();
    h.end();
    h.send(0, 1, 2);
    h.stream.disconnected();
    h.stream.connected();
    assert.deepEqual(h.replays, [0, 2]);
    h.end(); // it has no batch 2: its numbers are lower
    assert.equal(h.clears, 1);
    assert.ok(h.problems.includes('sequence-reset'));
    assert.deepEqual(h.replays, [0, 2, 0]);
    assert.equal(h.stream.untrusted(), 'replaying');
    h.reply(0, 100);
    h.end();
    h.send(1);
    assert.deepEqual(h.applied, [0, 1, 2, 100, 1]);
    assert.equal(h.stream.untrusted(), undefined);
  });

  it('a publisher restarted while disconnected, past the old numbers: its batch under the old number differs', () => {
    const h = harness({ replay: true });
    h.stream.connected();
    h.end();
    h.send(0, 1);
    h.stream.disconnected();
    h.stream.connected();
    h.reply(1, 101); // batch 1 of another publisher (another timestamp)
    assert.equal(h.clears, 1);
    assert.deepEqual(h.replays, [0, 1, 0]);
    for (const s of [0, 1, 2, 3]) h.reply(s, 100 + s);
    h.end();
    assert.deepEqual(h.applied, [0, 1, 100, 101, 102, 103]);
    assert.equal(h.stream.untrusted(), undefined);
  });

  it('a reconnection replay whose buffer no longer holds the last batch applied drops the entries (history lost)', () => {
    const h = harness({ replay: true });
    h.stream.connected();
    h.end();
    h.send(0);
    h.stream.disconnected();
    h.stream.connected();
    h.reply(1);
    h.reply(2);
    h.end();
    assert.equal(h.clears, 1);
    assert.ok(h.problems.includes('gap'));
    assert.deepEqual(h.applied, [0, 1, 2]);
  });

  it('a reconnection during a replay: a kept live message the replay also brought is a duplicate, not a restart', () => {
    const h = harness({ replay: true });
    h.stream.connected();
    h.reply(0);
    h.send(1); // kept while the replay runs
    h.stream.disconnected();
    h.stream.connected(); // the replay still runs: no second one
    h.reply(1);
    h.end();
    assert.deepEqual(h.applied, [0, 1]);
    assert.equal(h.clears, 0);
    assert.ok(!h.problems.includes('sequence-reset'));
  });

  it('without replay, a first live message after a reconnection under the last number is a restarted publisher\'s', () => {
    const h = harness();
    h.stream.connected();
    h.send(0);
    h.stream.disconnected();
    h.stream.connected();
    h.send(0); // a PUB socket never repeats a message: this is a new engine's first batch
    assert.equal(h.clears, 1);
    assert.ok(h.problems.includes('sequence-reset'));
    assert.deepEqual(h.applied, [0, 0]);
    h.send(1);
    assert.deepEqual(h.applied, [0, 0, 1]);
  });
});

describe('PodStream: bad input is counted, never thrown, never trusted', () => {
  const cases: { name: string; frames: () => Uint8Array[]; problem: StreamProblem; clears: number }[] = [
    { name: 'two frames', frames: () => [Buffer.from(TOPIC), encodeSeq(1)], problem: 'frame-count', clears: 0 },
    { name: 'four frames', frames: () => [Buffer.from(TOPIC), encodeSeq(1), Buffer.alloc(1), Buffer.alloc(1)], problem: 'frame-count', clears: 0 },
    { name: 'a 4-byte sequence frame', frames: () => [Buffer.from(TOPIC), Buffer.alloc(4), Buffer.from(encode([1, []]))], problem: 'short-seq', clears: 0 },
    { name: 'undecodable msgpack', frames: () => [Buffer.from(TOPIC), encodeSeq(1), Buffer.from([0xc1, 0xff, 0x00])], problem: 'msgpack', clears: 1 },
    { name: 'msgpack that is no batch', frames: () => [Buffer.from(TOPIC), encodeSeq(1), Buffer.from(encode('hello'))], problem: 'batch-shape', clears: 1 },
    { name: 'a BlockStored with a string hash', frames: () => [Buffer.from(TOPIC), encodeSeq(1), Buffer.from(encode([1, [['BlockStored', ['x'], null, [1], 1]]]))], problem: 'event-shape', clears: 1 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const h = harness();
      h.stream.connected();
      h.send(0);
      assert.doesNotThrow(() => h.stream.live(c.frames()));
      assert.deepEqual(h.problems, [c.problem]);
      assert.equal(h.clears, c.clears);
      assert.equal(h.stream.untrusted(), 'recovering');
      // The stream goes on: the next good message applies (after a payload loss its number is known: no gap).
      h.advance(1001);
      h.send(2);
      assert.equal(h.applied.at(-1), 2);
    });
  }

  it('skips events of unknown types and converts byte hashes, counting both, without distrust', () => {
    const h = harness();
    h.stream.connected();
    const digest = new Uint8Array(32).fill(0xab);
    const payload = encode([0, [{ type: 'BlockPinned', block_hashes: [1] }, ['BlockRemoved', [digest], 'GPU'], ['FutureEvent']]]);
    h.stream.live([Buffer.from(TOPIC), encodeSeq(0), Buffer.from(payload)]);
    assert.deepEqual(h.applied, [0]);
    assert.deepEqual(h.problems.sort(), ['hash-as-bytes', 'unknown-event-type', 'unknown-event-type']);
    assert.equal(h.stream.untrusted(), undefined);
  });

  it('a flooding pod is cut off unread, its entries dropped, and resumes after a quiet second', () => {
    const h = harness({ floodMessagesPerSecond: 10 });
    h.stream.connected();
    for (let s = 0; s < 30; s++) h.send(s);
    assert.equal(h.applied.length, 10);
    assert.equal(h.stream.untrusted(), 'flood');
    assert.equal(h.clears, 1);
    assert.equal(h.problems.filter((p) => p === 'flood').length, 20);
    h.advance(1000);
    h.send(100); // the flooding second has just ended: still dropped
    h.advance(1000);
    h.send(101); // after a quiet second: resumes, still recovering
    assert.deepEqual(h.applied.slice(-2), [9, 101]);
    assert.equal(h.stream.untrusted(), 'recovering');
    h.advance(1001);
    assert.equal(h.stream.untrusted(), undefined);
  });

  it('a pod silent from the start is told to check its topic against the filter (vLLM\'s default topic is dropped)', () => {
    const details: string[] = [];
    const stream = new PodStream({ apply: () => undefined, clear: () => undefined, replay: () => undefined, problem: (_p, d) => details.push(d) }, { silentAfterRequests: 1, silentMs: 0 });
    stream.connected();
    stream.expectEvents();
    assert.equal(stream.untrusted(), 'silent');
    assert.match(details[0]!, /no live message has come since it connected \(a replay's replies carry no topic\): vLLM's topic must start with the topic filter .*kv@<pod ip:port>@<model>/);
  });

  it('with a replay socket, a pod whose live messages never come is still told to check its topic; end markers are not messages', () => {
    const silentPod = (replayed: number[]) => {
      const details: string[] = [];
      const stream = new PodStream({ apply: () => undefined, clear: () => undefined, replay: () => undefined, problem: (_p, d) => details.push(d) }, { replay: true, silentAfterRequests: 1, silentMs: 0 });
      stream.connected(); // replays from 0
      for (const seq of replayed) stream.replayReply([Buffer.alloc(0), ...encodeKvEventMessage(TOPIC, seq, { ts: seq, events: [CLEARED], dataParallelRank: null }).slice(1)]);
      stream.replayReply([Buffer.alloc(0), ...encodeReplayEnd()]);
      stream.expectEvents();
      assert.equal(stream.untrusted(), 'silent');
      return { messages: stream.messages, detail: details[0]! };
    };
    // Nothing buffered: only the end marker came, which is not a message of the pod's.
    const empty = silentPod([]);
    assert.equal(empty.messages, 0);
    assert.match(empty.detail, /no live message has come since it connected \(a replay's replies carry no topic\): vLLM's topic must start with the topic filter/);
    // Batches replayed (replies carry no topic, so they come whatever the topic) count, but do not prove the topic right.
    const replayed = silentPod([0, 1]);
    assert.equal(replayed.messages, 2);
    assert.match(replayed.detail, /no live message has come since it connected \(a replay's replies carry no topic\): vLLM's topic must start with the topic filter/);
  });

  it('a pod that stays quiet after requests that needed new blocks has gone silent, until it speaks', () => {
    const h = harness({ silentAfterRequests: 3, silentMs: 5000 });
    h.stream.connected();
    h.send(0);
    for (let i = 0; i < 3; i++) h.stream.expectEvents();
    assert.equal(h.stream.untrusted(), undefined); // not for long enough yet
    h.advance(5000);
    assert.equal(h.stream.untrusted(), 'silent');
    assert.deepEqual(h.problems, ['silent']);
    h.send(1);
    assert.equal(h.stream.untrusted(), undefined);
  });
});
