/**
 * The simulator's KV-event publisher, as vLLM's ZmqEventPublisher (vllm/distributed/kv_events.py): a PUB socket
 * sending `[topic, seq, payload]`, and an optional ROUTER socket replaying recent batches by sequence number.
 */
import { Publisher, Router } from 'zeromq';
import type { KvEventBatch, KvEventFormat } from '../../kvevents/wire-format.js';
import type { KvEventsConfig } from './kv-events-config.js';
import { encodeKvEventBatch, encodeReplayEnd, encodeSeq } from '../../kvevents/wire-format.js';
import { ReplayRing } from './replay-ring.js';
import { bindAddress, bindsEndpoint, isIpv6Endpoint } from './zmq-endpoint.js';

/** How long `close()` waits for unsent batches, as vLLM's SHUTDOWN_TIMEOUT. */
const SHUTDOWN_TIMEOUT_MS = 1000;
/** Queued messages a closed PUB socket may still deliver for this long. */
const LINGER_MS = 500;
/**
 * How long a replay may wait for its client to read (the ROUTER's queue to it full) before it is abandoned: llm-d's
 * replay idle limit, past which its subscriber has given up anyway.
 */
const REPLAY_STALL_MS = 2000;
/** While the queue to a replay's client is full, sending is retried this often. */
const REPLAY_RETRY_MS = 5;
const EMPTY = Buffer.alloc(0);

export interface PublisherOptions {
  /** The simulator's listen address: what `*` in a tcp endpoint binds to (zmq-endpoint.ts). */
  readonly host: string;
  readonly format: KvEventFormat;
  /** Where to report a socket error or a dropped batch; once per kind. Default console.warn. */
  readonly warn?: (message: string) => void;
}

/**
 * Invariants: sequence numbers start at 0 and rise by 1 per batch, in publish order; with a replay socket,
 * every batch goes into the replay ring when it is numbered, so one dropped from the send queue (or by ZMQ
 * past `hwm`) can still be replayed; at most one send per socket is in flight (zeromq.js allows one).
 */
export class ZmqKvEventPublisher {
  readonly #pub: Publisher;
  readonly #router: Router | null;
  readonly #topic: Buffer;
  readonly #format: KvEventFormat;
  /** Null without a replay socket: nobody could ask for the batches, so they are not kept. */
  readonly #ring: ReplayRing | null;
  /** 0: no limit. */
  readonly #maxQueue: number;
  readonly #warn: (message: string) => void;
  readonly #warned = new Set<string>();
  readonly #queue: Buffer[][] = [];
  #seq = 0;
  #draining: Promise<void> | null = null;
  #closed = false;
  #replayLoop: Promise<void> = Promise.resolve();
  /** The PUB endpoint as bound (the real port when `*` was asked) or as connected. */
  readonly endpoint: string;
  /** The ROUTER endpoint as bound; null without `replay_endpoint`. */
  readonly replayEndpoint: string | null;

  private constructor(pub: Publisher, router: Router | null, endpoint: string, replayEndpoint: string | null, config: KvEventsConfig, options: PublisherOptions) {
    this.#pub = pub;
    this.#router = router;
    this.endpoint = endpoint;
    this.replayEndpoint = replayEndpoint;
    this.#topic = Buffer.from(config.topic, 'utf8');
    this.#format = options.format;
    this.#ring = router === null ? null : new ReplayRing(config.bufferSteps);
    this.#maxQueue = config.maxQueueSize;
    this.#warn = options.warn ?? ((m) => console.warn(m));
    if (router !== null) this.#replayLoop = this.#serveReplay(router);
  }

  /** Opens the sockets: binds or connects the PUB endpoint by vLLM's rule, binds the replay endpoint. Rejects if a bind fails. */
  static async start(config: KvEventsConfig, options: PublisherOptions): Promise<ZmqKvEventPublisher> {
    const pubAddress = bindsEndpoint(config.endpoint) ? bindAddress(config.endpoint, options.host) : config.endpoint;
    const pub = new Publisher({ sendHighWaterMark: config.hwm, linger: LINGER_MS, ipv6: isIpv6Endpoint(pubAddress) });
    let router: Router | null = null;
    // What is being opened, for the error: which field, and the address it became (`*` is the --host).
    let opening = `\`endpoint\` ${config.endpoint}${pubAddress === config.endpoint ? '' : ` (${pubAddress})`}`;
    try {
      let endpoint = pubAddress;
      if (bindsEndpoint(config.endpoint)) {
        await pub.bind(pubAddress);
        endpoint = pub.lastEndpoint ?? pubAddress;
      } else {
        pub.connect(pubAddress);
      }
      let replayEndpoint: string | null = null;
      if (config.replayEndpoint !== null) {
        const address = bindAddress(config.replayEndpoint, options.host);
        opening = `\`replay_endpoint\` ${config.replayEndpoint}${address === config.replayEndpoint ? '' : ` (${address})`}`;
        // mandatory: a ROUTER otherwise drops, without a word, every reply past the client's high-water mark (1000
        // messages), so a replay of a long buffer reached the client with batches missing, or without its end marker.
        // sendTimeout 0: a full queue fails at once and #sendReply retries; zeromq.js's own wait for a mandatory
        // ROUTER to be writable never ended for one client while another client's queue stayed full.
        router = new Router({ linger: 0, mandatory: true, sendTimeout: 0, ipv6: isIpv6Endpoint(address) });
        await router.bind(address);
        replayEndpoint = router.lastEndpoint ?? address;
      }
      return new ZmqKvEventPublisher(pub, router, endpoint, replayEndpoint, config, options);
    } catch (err) {
      pub.close();
      router?.close();
      const inUse = (err as { code?: string }).code === 'EADDRINUSE' ? '; another process (a simulator with the same --host?) holds the port: give each pod its own --host or port' : '';
      throw new Error(`KV events: cannot open ${opening}: ${(err as Error).message}${inUse}`);
    }
  }

  /** Batches published so far (the next sequence number). */
  get published(): number {
    return this.#seq;
  }

  /** Numbers, encodes, buffers and queues one batch; never blocks the engine. */
  publish(batch: KvEventBatch): void {
    if (this.#closed) return;
    const seq = this.#seq++;
    const payload = encodeKvEventBatch(batch, this.#format);
    this.#ring?.push(seq, payload);
    if (this.#maxQueue > 0 && this.#queue.length >= this.#maxQueue) {
      this.#queue.shift();
      this.#warnOnce('queue', `KV events: more than ${this.#maxQueue} batches wait to be sent (max_queue_size); dropping the oldest (subscribers can replay them)`);
    }
    this.#queue.push([this.#topic, encodeSeq(seq), payload]);
    this.#draining ??= this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      for (let frames = this.#queue.shift(); frames !== undefined; frames = this.#queue.shift()) {
        try {
          await this.#pub.send(frames);
        } catch (err) {
          if (this.#closed) return;
          this.#warnOnce('send', `KV events: send failed: ${(err as Error).message}`);
        }
      }
    } finally {
      this.#draining = null;
    }
  }

  /**
   * Answers `[identity, "", start_seq]` with `[identity, "", seq, payload]` per buffered batch from start_seq, then the
   * end marker; every one of them, or (its client gone or stalled) none after the first it could not send.
   */
  async #serveReplay(router: Router): Promise<void> {
    try {
      for await (const frames of router) {
        if (frames.length !== 3) {
          this.#warnOnce('replay', `KV events: ignoring a replay request of ${frames.length} frames; send ["", start_seq (8 bytes, big-endian)] from a DEALER`);
          continue;
        }
        const [identity, , start] = frames as [Buffer, Buffer, Buffer];
        // As vLLM: int.from_bytes(start, "big"), whatever its length.
        let startSeq = 0n;
        for (const byte of start) startSeq = (startSeq << 8n) | BigInt(byte);
        const from = startSeq > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(startSeq);
        try {
          for (const { seq, payload } of this.#ring!.from(from)) await this.#sendReply(router, [identity, EMPTY, encodeSeq(seq), payload]);
          await this.#sendReply(router, [identity, EMPTY, ...encodeReplayEnd()]);
        } catch (err) {
          if (this.#closed) return;
          // The client left (EHOSTUNREACH) or stopped reading (its queue full for REPLAY_STALL_MS): its replay ends
          // here, unfinished (no end marker, so it cannot take it for whole); the next client is served.
          this.#warnOnce('replay-client', `KV events: a replay was abandoned, its client gone or not reading for ${REPLAY_STALL_MS} ms: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      if (!this.#closed) this.#warnOnce('replay-loop', `KV events: replay socket stopped: ${(err as Error).message}`);
    }
  }

  /** Sends one reply, retrying while the queue to its client is full; rejects once it stayed full for REPLAY_STALL_MS. */
  async #sendReply(router: Router, frames: Uint8Array[]): Promise<void> {
    const deadline = Date.now() + REPLAY_STALL_MS;
    for (;;) {
      try {
        return await router.send(frames);
      } catch (err) {
        if ((err as { code?: string }).code !== 'EAGAIN' || this.#closed || Date.now() >= deadline) throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, REPLAY_RETRY_MS));
    }
  }

  /** Waits (up to 1 s) for queued batches to be handed to ZMQ, then closes both sockets; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    const drained = this.#draining ?? Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS)))]);
    clearTimeout(timer);
    this.#closed = true;
    this.#queue.length = 0;
    this.#pub.close();
    this.#router?.close();
    await this.#replayLoop;
  }

  #warnOnce(kind: string, message: string): void {
    if (this.#warned.has(kind)) return;
    this.#warned.add(kind);
    this.#warn(message);
  }
}
