/**
 * One pod's KV-event stream as a state machine, without sockets (the subscription feeds it frames): sequence
 * numbers, gaps and replays as llm-d's `zmq_subscriber.go` handles them, bad input, floods and silence, and
 * whether the pod's entries in the index can be trusted right now. A pod that cannot be trusted is scored by the
 * approximate prefix view instead (never a pick on a view known to be wrong).
 */
import { KvEventDecodeError, decodeKvEventBatch, decodeReplayReply, decodeSeq, type DecodedKvEventBatch } from './wire-format.js';
import { DEFAULT_POD_STREAM_OPTIONS, type PodStreamOptions, type PodStreamSink, type ReplayStats, type StreamProblem, type UntrustedReason } from './pod-stream-contract.js';

const FAULTS: ReadonlySet<StreamProblem> = new Set<StreamProblem>(['frame-count', 'short-seq', 'bad-seq', 'msgpack', 'batch-shape', 'event-shape', 'gap', 'flood', 'silent', 'replay-failed']);

const SEQ_UNKNOWN = -1;

export class PodStream {
  readonly #sink: PodStreamSink;
  readonly #o: PodStreamOptions;
  readonly #now: () => number;
  /** The last sequence number applied; -1 before the first (or after a reset). */
  #lastSeq = SEQ_UNKNOWN;
  /** The timestamp of that batch (NaN when it could not be read): a restarted publisher reuses numbers, not times. */
  #lastTs = NaN;
  /**
   * The running replay was asked from `#lastSeq` after a reconnection: its first reply must be that same batch, or
   * the publisher restarted meanwhile (an engine restarted at the same address, its numbers from 0 again).
   */
  #verifying = false;
  #connected = false;
  /** Reconnected without a replay socket: untrusted until a live message shows whether anything was lost. */
  #resyncing = false;
  #replaying = false;
  /** The current replay fills a gap in a history we already applied (missing batches would leave stale entries). */
  #replayFillsGap = false;
  #buffered: Uint8Array[][] = [];
  #bufferOverflowed = false;
  #replayFailedAt = -Infinity;
  #untrustedUntil = 0;
  #floodWindowStart = 0;
  #windowBytes = 0;
  #windowMessages = 0;
  #flooding = false;
  #lastMessageAt: number;
  /** Requests since the last message that must have made the pod store blocks, and when the first was sent. */
  #expected = 0;
  #expectedSince = 0;
  #silent = false;
  #everConnected = false;
  #everReplayed = false;
  /** Whether a live message ever came: replies to a replay come whatever the topic, so they cannot show it right. */
  #everLive = false;
  /** Messages received (live, and replayed batches; not a replay's end marker), for metrics. */
  messages = 0;
  readonly #replays: ReplayStats = { active: false, completed: 0, failed: 0, processed: 0, lastCompletedAt: 0 };

  constructor(sink: PodStreamSink, options: Partial<PodStreamOptions> = {}, now: () => number = Date.now) {
    this.#sink = sink;
    this.#o = { ...DEFAULT_POD_STREAM_OPTIONS, ...options };
    this.#now = now;
    this.#lastMessageAt = now();
  }

  /** Undefined when the pod's index entries can be used for scoring now; else why not. */
  untrusted(): UntrustedReason | undefined {
    if (!this.#connected) return this.#everConnected ? 'disconnected' : 'connecting';
    if (this.#replaying) return 'replaying';
    // Two windows since the flooding one began and nothing rolled it: the last second was silent.
    if (this.#flooding && this.#now() - this.#floodWindowStart >= 2000) this.#endFlood(this.#now());
    if (this.#flooding) return 'flood';
    if (this.#silent || this.#checkSilent()) return 'silent';
    if (this.#resyncing) return 'resyncing';
    if (this.#now() < this.#untrustedUntil) return 'recovering';
    return undefined;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** When the last message arrived (ms since epoch; the stream's creation before the first). */
  get lastMessageAt(): number {
    return this.#lastMessageAt;
  }

  /** Whether a replay is running (its replies are expected). */
  get replaying(): boolean {
    return this.#replaying;
  }

  /** The replays so far, for metrics. */
  get replays(): Readonly<ReplayStats> {
    this.#replays.active = this.#replaying;
    return this.#replays;
  }

  /** The socket connected (first time, or again after a disconnection). */
  connected(): void {
    if (this.#connected) return;
    this.#connected = true;
    const rejoin = this.#everConnected;
    this.#everConnected = true;
    if (this.#o.replay && !this.#replaying && this.#canReplay()) {
      // First connection: rebuild from the publisher's buffer (llm-d's proactive replay). A reconnection: catch up
      // on what was published while we were away, starting with the last batch applied to prove the publisher is
      // the one we followed (a pod restarted at the same address would otherwise hand back a new engine's batches
      // under the old numbers, or nothing, and the old engine's blocks would stay trusted).
      if (this.#lastSeq === SEQ_UNKNOWN) this.#startReplay(0, false);
      else {
        this.#verifying = true;
        this.#startReplay(this.#lastSeq, true);
      }
    } else if (rejoin && this.#lastSeq !== SEQ_UNKNOWN) this.#resyncing = true;
  }

  /** The connection dropped: untrusted until it is back and caught up (a replay, or a live message in sequence). */
  disconnected(): void {
    if (!this.#connected) return;
    this.#connected = false;
    this.#sink.problem('disconnected', 'the KV-event connection dropped; reconnecting with backoff');
  }

  /** A message from the SUB socket. */
  live(frames: readonly Uint8Array[]): void {
    // A message proves the connection, should the socket's monitor not have said so yet.
    if (!this.#connected) this.connected();
    this.#noteMessage();
    if (this.#overFloodLimit(frames)) return;
    if (this.#replaying) {
      if (this.#buffered.length < this.#o.maxBufferedDuringReplay) this.#buffered.push([...frames]);
      else this.#bufferOverflowed = true;
      return;
    }
    this.#handleLive(frames, true);
  }

  /** One reply of the running replay. */
  replayReply(frames: readonly Uint8Array[]): void {
    if (!this.#replaying) return;
    let reply;
    try {
      reply = decodeReplayReply(frames);
    } catch (e) {
      this.messages++;
      // Undecodable: end the replay here; what it did not bring counts as a gap below.
      this.#decodeFailed(e, null);
      return this.replayEnd(false);
    }
    // The end marker is not a message of the pod's: an idle pod, or one whose topic the filter drops, sends none.
    if (reply.kind === 'batch') this.messages++;
    if (this.#verifying) {
      this.#verifying = false;
      if (reply.kind === 'end') return this.#restarted(`the publisher no longer has batch ${this.#lastSeq}, the last one applied`);
      if (reply.seq === this.#lastSeq) {
        if (reply.batch.ts === this.#lastTs) return; // the same publisher: go on from there
        return this.#restarted(`batch ${reply.seq} is not the one applied before the connection dropped`);
      }
      // The buffer no longer reaches back to it: whether or not the publisher restarted, the history between is lost.
      this.#replayFillsGap = false;
      this.#lostHistory('gap', `the replay starts at ${reply.seq}, after batch ${this.#lastSeq}, the last one applied`);
      this.#lastSeq = SEQ_UNKNOWN;
    }
    if (reply.kind === 'end') return this.replayEnd(true);
    this.#sequenced(reply.seq, reply.topic, reply.batch);
  }

  /**
   * Reconnected to a publisher that is not the one followed before: the engine restarted at the same address, its
   * cache empty and its numbers from 0. What the old one held goes, and the new one's history is replayed from 0.
   */
  #restarted(detail: string): void {
    this.#sink.problem('sequence-reset', `${detail}: the publisher restarted; its entries were dropped and its new history is replayed`);
    this.#sink.clear();
    this.#lastSeq = SEQ_UNKNOWN;
    this.#lastTs = NaN;
    this.#startReplay(0, false);
  }

  /** The replay finished: `ok` when its end marker arrived, false on a timeout or a socket error. */
  replayEnd(ok: boolean): void {
    if (!this.#replaying) return;
    this.#replaying = false;
    this.#verifying = false;
    if (ok) {
      this.#replays.completed++;
      this.#replays.lastCompletedAt = this.#now();
    } else this.#replays.failed++;
    if (!ok) {
      this.#replayFailedAt = this.#now();
      this.#fault('replay-failed', 'the replay socket did not answer completely');
      // A gap that the replay was to fill is now known to be lost: what was buffered starts a new history.
      if (this.#replayFillsGap) {
        this.#lostHistory('gap', 'a gap in the sequence could not be replayed');
        this.#lastSeq = SEQ_UNKNOWN;
      }
    }
    this.#replayFillsGap = false;
    const pending = this.#buffered;
    this.#buffered = [];
    const overflowed = this.#bufferOverflowed;
    this.#bufferOverflowed = false;
    for (const f of pending) this.#handleLive(f, false);
    if (overflowed) {
      this.#lostHistory('gap', 'more live messages arrived during a replay than could be kept');
      this.#lastSeq = SEQ_UNKNOWN;
    }
  }

  /**
   * The gateway sent the pod a request with blocks it did not hold: the engine will store them and say so. A pod
   * that stays quiet after several such requests has a publisher that stopped (its view goes stale).
   */
  expectEvents(): void {
    if (this.#expected++ === 0) this.#expectedSince = this.#now();
    this.#checkSilent();
  }

  #checkSilent(): boolean {
    if (this.#silent || this.#expected < this.#o.silentAfterRequests || !this.#connected) return this.#silent;
    const quiet = this.#now() - this.#expectedSince;
    if (quiet < this.#o.silentMs) return false;
    this.#silent = true;
    // Never a message at all: most often a topic the subscription's filter drops (vLLM's default topic is empty).
    const never = !this.#everLive ? '; no live message has come since it connected (a replay\'s replies carry no topic): vLLM\'s topic must start with the topic filter (kvEventsConfig.topicFilter, kv@ by default; vLLM\'s own default topic is empty, which it drops): set "topic":"kv@<pod ip:port>@<model>"' : '';
    this.#sink.problem('silent', `${this.#expected} requests sent to it needed new blocks, and no KV event came in ${Math.round(quiet / 1000)} s${never}; it is scored on the approximate view until events arrive`);
    return true;
  }

  #noteMessage(): void {
    this.messages++;
    this.#everLive = true;
    this.#lastMessageAt = this.#now();
    this.#expected = 0;
    this.#silent = false;
  }

  /** Flood control before decoding: a flooding pod costs only this count. */
  #overFloodLimit(frames: readonly Uint8Array[]): boolean {
    const now = this.#now();
    if (now - this.#floodWindowStart >= 1000) {
      const calm = this.#windowBytes <= this.#o.floodBytesPerSecond && this.#windowMessages <= this.#o.floodMessagesPerSecond;
      if (this.#flooding && (calm || now - this.#floodWindowStart >= 2000)) this.#endFlood(now);
      this.#floodWindowStart = now;
      this.#windowBytes = 0;
      this.#windowMessages = 0;
    }
    let bytes = 0;
    for (const f of frames) bytes += f.byteLength;
    this.#windowBytes += bytes;
    this.#windowMessages++;
    if (this.#flooding) {
      this.#sink.problem('flood', '', 1);
      return true;
    }
    if (this.#windowBytes > this.#o.floodBytesPerSecond || this.#windowMessages > this.#o.floodMessagesPerSecond) {
      this.#flooding = true;
      this.#replaying = false;
      this.#verifying = false;
      this.#buffered = [];
      this.#lostHistory('flood', `over ${this.#o.floodMessagesPerSecond} messages or ${this.#o.floodBytesPerSecond} bytes in a second; its events are dropped unread until a quieter second`);
      return true;
    }
    return false;
  }

  /** A quiet second again: resume from the live stream (no replay: the buffer holds the flood); the index starts over. */
  #endFlood(now: number): void {
    this.#flooding = false;
    this.#lastSeq = SEQ_UNKNOWN;
    this.#everReplayed = true;
    this.#untrustedUntil = now + this.#o.recoveryMs;
  }

  #handleLive(frames: readonly Uint8Array[], mayReplay: boolean): void {
    if (frames.length !== 3) return this.#decodeFailed(new KvEventDecodeError('frame-count', `a KV-event message has ${frames.length} frames; vLLM sends 3 (topic, seq, payload)`), null);
    let seq: number;
    try {
      seq = decodeSeq(frames[1]!);
      if (seq < 0) throw new KvEventDecodeError('bad-seq', 'a live message carries the replay end marker');
    } catch (e) {
      return this.#decodeFailed(e, null);
    }
    const topic = Buffer.from(frames[0]!.buffer, frames[0]!.byteOffset, frames[0]!.byteLength).toString('utf8');
    const last = this.#lastSeq;
    if (last !== SEQ_UNKNOWN) {
      // A duplicate (a live message kept during a replay that brought it too); but a PUB socket never sends a
      // message twice, so a live one after a reconnection is a restarted publisher's first batch under a number the
      // old one had used.
      if (seq === last && !(this.#resyncing && mayReplay)) return;
      if (seq <= last) {
        // The publisher restarted: its engine's cache is new too.
        this.#sink.problem('sequence-reset', seq < last ? `sequence went back from ${last} to ${seq}: the publisher restarted` : `sequence ${seq} came again after a reconnection: the publisher restarted`);
        this.#sink.clear();
        this.#lastSeq = SEQ_UNKNOWN;
        if (mayReplay && this.#o.replay && seq > 0 && this.#canReplay()) return this.#replayThen(frames, 0, false);
      } else if (seq > last + 1) {
        if (mayReplay && this.#o.replay && this.#canReplay()) return this.#replayThen(frames, last + 1, true);
        this.#lostHistory('gap', `sequence jumped from ${last} to ${seq}; ${seq - last - 1} batch(es) lost`);
      }
    } else if (seq > 0 && mayReplay && this.#o.replay && this.#canReplay() && !this.#everReplayed) {
      // Joined mid-stream: fetch the history the publisher still has.
      return this.#replayThen(frames, 0, false);
    }
    this.#resyncing = false;
    this.#decodeAndApply(seq, topic, frames[2]!);
  }

  #replayThen(frames: readonly Uint8Array[], from: number, fillsGap: boolean): void {
    this.#startReplay(from, fillsGap);
    this.#buffered.push([...frames]);
  }

  #startReplay(from: number, fillsGap: boolean): void {
    this.#replaying = true;
    this.#everReplayed = true;
    this.#replayFillsGap = fillsGap;
    this.#sink.replay(from);
  }

  #canReplay(): boolean {
    return this.#now() - this.#replayFailedAt >= this.#o.replayCooldownMs;
  }

  /** A replayed batch (its sequence number known). */
  #sequenced(seq: number, topic: string | null, batch: DecodedKvEventBatch): void {
    const last = this.#lastSeq;
    if (last !== SEQ_UNKNOWN && seq <= last) return;
    this.#replays.processed++;
    if (last !== SEQ_UNKNOWN && seq > last + 1) {
      if (this.#replayFillsGap) {
        // The publisher's buffer no longer reaches back to the gap.
        this.#replayFillsGap = false;
        this.#lostHistory('gap', `the replay starts at ${seq}, after the gap that began at ${last + 1}`);
      } else {
        // Batches missing inside a replay: vLLM's ROUTER drops replies past its high-water mark (1000) to a client
        // that reads more slowly than it sends. Their removals are lost, so what came before may be stale.
        this.#lostHistory('gap', `the replay skipped from ${last} to ${seq}; ${seq - last - 1} batch(es) lost (a replay socket drops replies to a slow reader)`);
      }
    }
    this.#apply(seq, topic, batch);
  }

  #decodeAndApply(seq: number, topic: string | null, payload: Uint8Array): void {
    let batch: DecodedKvEventBatch;
    try {
      batch = decodeKvEventBatch(payload);
    } catch (e) {
      return this.#decodeFailed(e, seq);
    }
    this.#apply(seq, topic, batch);
  }

  #apply(seq: number, topic: string | null, batch: DecodedKvEventBatch): void {
    this.#lastSeq = seq;
    this.#lastTs = batch.ts;
    if (batch.unknownEventTypes.length > 0) this.#sink.problem('unknown-event-type', `events of unknown type ${[...new Set(batch.unknownEventTypes)].join(', ')} skipped`, batch.unknownEventTypes.length);
    if (batch.hashesAsBytes > 0) this.#sink.problem('hash-as-bytes', 'block hashes arrive as bytes, not integers (VLLM_KV_EVENTS_USE_INT_BLOCK_HASHES=0?); converted', batch.hashesAsBytes);
    this.#sink.apply(topic, batch);
  }

  /**
   * A message that could not be read. With its sequence number known (`seq`), the batch is lost for good (a replay
   * brings the same bytes): the pod's entries may miss its removals, so they are dropped.
   */
  #decodeFailed(e: unknown, seq: number | null): void {
    if (!(e instanceof KvEventDecodeError)) throw e;
    this.#fault(e.reason, e.message);
    if (seq !== null) {
      this.#sink.clear();
      this.#lastSeq = seq;
      this.#lastTs = NaN;
    }
  }

  #lostHistory(p: StreamProblem, detail: string): void {
    this.#fault(p, `${detail}; its index entries were dropped`);
    this.#sink.clear();
  }

  #fault(p: StreamProblem, detail: string): void {
    this.#sink.problem(p, detail);
    if (FAULTS.has(p)) this.#untrustedUntil = this.#now() + this.#o.recoveryMs;
  }
}
