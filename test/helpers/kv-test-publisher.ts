/**
 * A KV-event publisher a test steers, written from the wire format (ANCHORS §3b): a PUB socket and a replay ROUTER
 * like vLLM's, plus what vLLM never does on purpose: batches kept from the live stream (a gap), raw frames (bad
 * input), and the PUB socket closed and bound again (a reconnect).
 */
import { Publisher, Router } from 'zeromq';
import { encodeKvEventBatch, encodeReplayEnd, encodeSeq, type KvCacheEvent } from '../../src/kvevents/wire-format.js';

const EMPTY = Buffer.alloc(0);

export class KvTestPublisher {
  readonly endpoint: string;
  readonly replayEndpoint: string;
  readonly topic: string;
  #pub: Publisher | undefined;
  readonly #router: Router;
  readonly #buffer: { seq: number; payload: Buffer }[] = [];
  #seq = 0;
  #loop: Promise<void>;
  /** Batches kept for replay at most (vLLM's `buffer_steps`, default 10,000); the oldest go first. */
  maxBuffered = Infinity;

  private constructor(endpoint: string, replayEndpoint: string, topic: string, pub: Publisher, router: Router) {
    this.endpoint = endpoint;
    this.replayEndpoint = replayEndpoint;
    this.topic = topic;
    this.#pub = pub;
    this.#router = router;
    this.#loop = this.#serveReplay();
  }

  static async start(host: string, port: number, replayPort: number, model: string): Promise<KvTestPublisher> {
    const endpoint = `tcp://${host}:${port}`;
    const replayEndpoint = `tcp://${host}:${replayPort}`;
    const pub = new Publisher({ linger: 0 });
    await bindRetrying(pub, endpoint);
    const router = new Router({ linger: 0 });
    await bindRetrying(router, replayEndpoint);
    return new KvTestPublisher(endpoint, replayEndpoint, `kv@${host}@${model}`, pub, router);
  }

  /** The next sequence number. */
  get next(): number {
    return this.#seq;
  }

  /** Numbers and buffers one batch; sends it live unless `live` is false (then only a replay can bring it). */
  async publish(events: KvCacheEvent[], live = true): Promise<number> {
    const seq = this.#seq++;
    const payload = encodeKvEventBatch({ ts: Date.now() / 1000, events, dataParallelRank: null });
    this.#buffer.push({ seq, payload });
    if (live && this.#pub) await this.#pub.send([this.topic, encodeSeq(seq), payload]);
    return seq;
  }

  /** Numbers, buffers and sends a payload as it is (undecodable msgpack: a replay brings the same bytes). */
  async publishPayload(payload: Buffer): Promise<number> {
    const seq = this.#seq++;
    this.#buffer.push({ seq, payload });
    // Trimmed in chunks, so a long stream does not shift the array on every batch.
    if (this.#buffer.length > this.maxBuffered + 1024) this.#buffer.splice(0, this.#buffer.length - this.maxBuffered);
    await this.#pub?.send([this.topic, encodeSeq(seq), payload]);
    return seq;
  }

  /** Sends frames as they are (bad input). */
  async raw(frames: (Buffer | string)[]): Promise<void> {
    await this.#pub?.send(frames);
  }

  /** Closes the PUB socket: subscribers see the connection drop. */
  stopLive(): void {
    this.#pub?.close();
    this.#pub = undefined;
  }

  /** Binds the PUB socket again at the same address: subscribers reconnect by themselves. */
  async startLive(): Promise<void> {
    const pub = new Publisher({ linger: 0 });
    await bindRetrying(pub, this.endpoint);
    this.#pub = pub;
  }

  async close(): Promise<void> {
    this.#pub?.close();
    this.#router.close();
    await this.#loop;
  }

  /** vLLM's replay: `[identity, "", start]` -> `[identity, "", seq, payload]` per buffered batch from start, then the end marker. */
  async #serveReplay(): Promise<void> {
    try {
      for await (const frames of this.#router) {
        const [identity, , start] = frames as [Buffer, Buffer, Buffer];
        const from = Number(start.readBigUInt64BE());
        for (const b of this.#buffer) if (b.seq >= from) await this.#router.send([identity, EMPTY, encodeSeq(b.seq), b.payload]);
        await this.#router.send([identity, EMPTY, ...encodeReplayEnd()]);
      }
    } catch {
      // closed
    }
  }
}

/** Binds, retrying for a second: a port just closed (here or by a test file before) may take a moment to be free. */
async function bindRetrying(socket: Publisher | Router, endpoint: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await socket.bind(endpoint);
      return;
    } catch (e) {
      if (i >= 50) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
