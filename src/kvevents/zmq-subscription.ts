/**
 * One ZMQ SUB connection to a pod's KV-event publisher (and, on demand, a DEALER to its replay ROUTER), feeding a
 * PodStream. ZMQ reconnects by itself with exponential backoff (`reconnectInterval` up to `reconnectMaxInterval`);
 * the socket monitor tells the stream when the connection drops and returns. The receive loop yields to the event
 * loop every few messages, so a busy publisher never holds up requests.
 */
import type * as Zmq from 'zeromq';
import { encodeReplayRequest } from './wire-format.js';

/** What the subscription feeds (a PodStream, or a demultiplexer of a bound socket). */
export interface FrameHandler {
  live(frames: readonly Uint8Array[]): void;
  connected(): void;
  disconnected(): void;
  replayReply(frames: readonly Uint8Array[]): void;
  replayEnd(ok: boolean): void;
  /** Whether a replay is still expected to send replies. */
  readonly replaying: boolean;
}

export interface SubscriptionOptions {
  /** First reconnect delay (ms); doubles per failed attempt up to `reconnectMaxMs`. */
  reconnectMs: number;
  reconnectMaxMs: number;
  /** Messages ZMQ queues for this socket before it drops (ZMQ_RCVHWM). */
  receiveHighWaterMark: number;
  /** A replay with no reply for this long is abandoned (ms; llm-d's replayAttemptIdleTimeout). */
  replayIdleMs: number;
  /** A replay is abandoned after this long in all (ms; llm-d's replayTimeout). */
  replayTimeoutMs: number;
  /** Messages handled before yielding to the event loop. */
  sliceMessages: number;
  /** Told of ZMQ operation failures (`recv`, `replay-connect`, ...) and of reconnection attempts. */
  onError?: (operation: string, error: unknown) => void;
  onReconnectAttempt?: () => void;
}

export const DEFAULT_SUBSCRIPTION_OPTIONS: SubscriptionOptions = {
  reconnectMs: 200,
  reconnectMaxMs: 5000,
  receiveHighWaterMark: 100_000,
  replayIdleMs: 2000,
  replayTimeoutMs: 120_000,
  sliceMessages: 64,
};

/** At most this many replays run at once in the process (llm-d's maxConcurrentReplay). */
export class ReplayLimiter {
  readonly #max: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(max = 8) {
    this.#max = max;
  }

  async acquire(): Promise<() => void> {
    if (this.#running >= this.#max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#waiting.shift()?.();
    };
  }
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * ZeroMQ, loaded by the first subscription that starts: a gateway without KV events never loads its native
 * module (about 25 ms and 10 MiB imported alone, a few MiB of a gateway's RSS; docs/benchmarks.md, "Startup and
 * memory").
 */
let zmq: typeof Zmq | undefined;
let loading: Promise<typeof Zmq> | undefined;

function loadZeromq(): Promise<typeof Zmq> {
  loading ??= import('zeromq').then((m) => (zmq = m));
  return loading;
}

export class ZmqSubscription {
  readonly endpoint: string;
  readonly replayEndpoint: string | undefined;
  /** Bound (the gateway listens, pods connect: llm-d's central `zmqEndpoint`) or connected (a pod's publisher). */
  readonly bind: boolean;
  readonly #handler: FrameHandler;
  readonly #o: SubscriptionOptions;
  readonly #limiter: ReplayLimiter;
  readonly #topicFilter: string;
  /** Made by `start()`, once ZeroMQ is loaded. */
  #sub: Zmq.Subscriber | undefined;
  #closed = false;
  #loop: Promise<void> | undefined;
  #replay: { dealer: Zmq.Dealer; done: Promise<void> } | undefined;

  constructor(target: { endpoint: string; replayEndpoint?: string; topicFilter: string; bind?: boolean }, handler: FrameHandler, limiter: ReplayLimiter, options: Partial<SubscriptionOptions> = {}) {
    this.endpoint = target.endpoint;
    this.replayEndpoint = target.replayEndpoint;
    this.bind = target.bind === true;
    this.#handler = handler;
    this.#limiter = limiter;
    this.#o = { ...DEFAULT_SUBSCRIPTION_OPTIONS, ...options };
    this.#topicFilter = target.topicFilter;
  }

  /** Connects (or binds) and starts receiving. Resolves once bound; a connect completes in the background. */
  async start(): Promise<void> {
    const { Subscriber } = await loadZeromq();
    if (this.#closed) return;
    const sub = new Subscriber({ reconnectInterval: this.#o.reconnectMs, reconnectMaxInterval: this.#o.reconnectMaxMs, receiveHighWaterMark: this.#o.receiveHighWaterMark, linger: 0 });
    sub.subscribe(this.#topicFilter);
    this.#sub = sub;
    const events = sub.events;
    events.on('connect', () => this.#safely(() => this.#handler.connected()));
    events.on('disconnect', () => this.#safely(() => this.#handler.disconnected()));
    events.on('connect:retry', () => this.#o.onReconnectAttempt?.());
    if (this.bind) {
      await sub.bind(this.endpoint);
      this.#safely(() => this.#handler.connected());
    } else sub.connect(this.endpoint);
    this.#loop = this.#receive(sub);
  }

  /**
   * Starts a replay from `fromSeq` (the handler gets the replies, then replayEnd exactly once). A replay started
   * while another runs (the handler found, mid-replay, that it needs another history) supersedes it: the older
   * one delivers nothing more and ends no replay.
   */
  replay(fromSeq: number): void {
    // Without ZeroMQ loaded no subscription has started, so no frame can have asked for a replay.
    if (!this.replayEndpoint || this.#closed || !zmq) {
      queueMicrotask(() => this.#safely(() => this.#handler.replayEnd(false)));
      return;
    }
    // A superseded replay's socket closes now: its wait for a reply ends at once, and so does its limiter slot.
    this.#replay?.dealer.close();
    const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: this.#o.replayIdleMs });
    const done = this.#runReplay(dealer, fromSeq).finally(() => {
      dealer.close();
      if (this.#replay?.dealer === dealer) this.#replay = undefined;
    });
    this.#replay = { dealer, done };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#sub?.close();
    this.#replay?.dealer.close();
    await Promise.allSettled([this.#loop, this.#replay?.done]);
  }

  async #runReplay(dealer: Zmq.Dealer, fromSeq: number): Promise<void> {
    // Whether this is still the replay the handler waits on (replay() sets #replay before this first awaits).
    const current = (): boolean => this.#replay?.dealer === dealer;
    const release = await this.#limiter.acquire();
    try {
      if (this.#closed || !current()) return;
      dealer.connect(this.replayEndpoint!);
      // [empty delimiter, seq]: the ROUTER sees [identity, "", seq] (ANCHORS §3b).
      await dealer.send(encodeReplayRequest(fromSeq));
      const deadline = Date.now() + this.#o.replayTimeoutMs;
      let n = 0;
      while (!this.#closed && Date.now() < deadline && current()) {
        const frames = await dealer.receive();
        if (this.#closed || !current()) return;
        this.#safely(() => this.#handler.replayReply(frames));
        if (!this.#handler.replaying) return;
        if (++n % this.#o.sliceMessages === 0) await yieldToLoop();
      }
    } catch (e) {
      // A receive timeout (EAGAIN) is the idle limit: the publisher stopped answering (or nothing listens there).
      const idle = (e as { code?: unknown } | null)?.code === 'EAGAIN';
      const error = idle ? new Error(`no reply from ${this.replayEndpoint} for ${this.#o.replayIdleMs} ms; is vLLM's replay_endpoint bound on that port (replaySocketPort)?`) : e;
      if (!this.#closed && current()) this.#o.onError?.('replay', error);
    } finally {
      release();
      // No end marker (a timeout, a broken socket): the stream learns the replay failed. A closed subscription's
      // handler hears nothing more.
      if (this.#handler.replaying && current() && !this.#closed) this.#safely(() => this.#handler.replayEnd(false));
    }
  }

  async #receive(sub: Zmq.Subscriber): Promise<void> {
    let n = 0;
    let sliceStart = performance.now();
    while (!this.#closed) {
      let frames: Buffer[];
      try {
        frames = await sub.receive();
      } catch (e) {
        if (this.#closed) return;
        this.#o.onError?.('recv', e);
        await new Promise((r) => setTimeout(r, this.#o.reconnectMs).unref());
        continue;
      }
      // A message received as the subscription closed is not delivered: its pod may be gone.
      if (this.#closed) return;
      this.#safely(() => this.#handler.live(frames));
      // Queued messages resolve receive() at once: without a yield, a busy publisher would starve the requests.
      if (++n >= this.#o.sliceMessages || performance.now() - sliceStart > 2) {
        n = 0;
        await yieldToLoop();
        sliceStart = performance.now();
      }
    }
  }

  /** A handler bug must not take the process down with it: it is reported as an error and the loop goes on. */
  #safely(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#o.onError?.('handle', e);
    }
  }
}
