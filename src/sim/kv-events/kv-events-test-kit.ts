/** Test clients for KV events, written from the wire format (ANCHORS §3b): a SUB socket that collects, and a DEALER replay. */
import { Dealer, Subscriber } from 'zeromq';
import type { KvEventMessage, ReplayReply } from '../../kvevents/wire-format.js';
import { decodeKvEventMessage, decodeReplayReply, encodeReplayRequest } from '../../kvevents/wire-format.js';

/** One message as received: its raw frames and what they decode to. */
export interface TappedMessage {
  readonly frames: Buffer[];
  readonly message: KvEventMessage;
}

/** Polls `check` every 5 ms; fails after `timeoutMs` naming `what`. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A SUB socket collecting every message on the `kv@` topics (or `filter`) from connect/bind until `close()`. */
export class KvEventTap {
  readonly messages: TappedMessage[] = [];
  readonly #sub: Subscriber;
  readonly #loop: Promise<void>;

  private constructor(sub: Subscriber) {
    this.#sub = sub;
    this.#loop = (async () => {
      try {
        for await (const frames of sub) this.messages.push({ frames, message: decodeKvEventMessage(frames) });
      } catch {
        // closed
      }
    })();
  }

  /** Connects to a publisher that binds (vLLM's per-pod mode). */
  static connect(endpoint: string, filter = 'kv@'): KvEventTap {
    const sub = new Subscriber({ linger: 0 });
    sub.connect(endpoint);
    sub.subscribe(filter);
    return new KvEventTap(sub);
  }

  /** Binds for publishers that connect (the older central mode); returns the bound endpoint too. */
  static async bind(address: string, filter = 'kv@'): Promise<{ tap: KvEventTap; endpoint: string }> {
    const sub = new Subscriber({ linger: 0 });
    await sub.bind(address);
    sub.subscribe(filter);
    return { tap: new KvEventTap(sub), endpoint: sub.lastEndpoint ?? address };
  }

  async close(): Promise<void> {
    this.#sub.close();
    await this.#loop;
  }
}

/** Asks a replay ROUTER for every buffered batch from `startSeq`, through a DEALER; resolves at the end marker. */
export async function replayFrom(endpoint: string, startSeq: number, timeoutMs = 5000): Promise<Extract<ReplayReply, { kind: 'batch' }>[]> {
  const dealer = new Dealer({ linger: 0, receiveTimeout: timeoutMs });
  dealer.connect(endpoint);
  try {
    await dealer.send(encodeReplayRequest(startSeq));
    const out: Extract<ReplayReply, { kind: 'batch' }>[] = [];
    for (let i = 0; i < 100_000; i++) {
      const reply = decodeReplayReply(await dealer.receive());
      if (reply.kind === 'end') return out;
      out.push(reply);
    }
    throw new Error('replay did not end');
  } finally {
    dealer.close();
  }
}
