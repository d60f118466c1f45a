/**
 * One pod's feed as the request thread sees it: where its events come from, whether its view can be trusted now,
 * and what went wrong (for metrics and log-once). Its stream is the PodStream itself when ingestion runs
 * in-thread, or a mirror of the worker's PodStream, refreshed by the worker's status posts.
 */
import type { FeedProblem } from './pod-feeds.js';
import type { ReplayStats, UntrustedReason } from './pod-stream-contract.js';

/** Where a pod's events come from. */
export interface FeedTarget {
  /** `tcp://ip:port` of its PUB socket; empty when it only reaches us through a bound socket (central mode). */
  readonly endpoint: string;
  readonly replayEndpoint?: string;
  /** The caller's object for the pod (the gateway's Endpoint), handed back by `ownerOf`: found by identity, not by name. */
  readonly owner?: object;
  /**
   * Which pod is at the address (`namespace/name`): another pod taking over the address (an IP reused, a pod
   * replaced within one configuration change) is another engine, whose cache and sequence numbers start over.
   */
  readonly pod?: string;
}

/** What the request thread reads of a pod's stream (a PodStream has all of it). */
export interface FeedStream {
  /** Undefined when the pod's index entries can be used for scoring now; else why not. */
  untrusted(): UntrustedReason | undefined;
  /** Messages received (live and replayed). */
  readonly messages: number;
  /** When the last message arrived (ms since epoch; the feed's creation before the first). */
  readonly lastMessageAt: number;
  readonly replays: Readonly<ReplayStats>;
  /** The gateway sent the pod a request with blocks it lacks: its events should follow (silence detection). */
  expectEvents(): void;
}

/** A worker-side PodStream's state, as last posted; `expectEvents` is forwarded (batched) to the worker. */
export class StreamMirror implements FeedStream {
  messages = 0;
  lastMessageAt: number;
  reason: UntrustedReason | undefined = 'connecting';
  replays: ReplayStats = { active: false, completed: 0, failed: 0, processed: 0, lastCompletedAt: 0 };
  readonly #expect: () => void;

  constructor(expect: () => void, now = Date.now()) {
    this.#expect = expect;
    this.lastMessageAt = now;
  }

  untrusted(): UntrustedReason | undefined {
    return this.reason;
  }

  expectEvents(): void {
    this.#expect();
  }
}

export class PodFeed {
  readonly address: string;
  /** The pod's id in the block index. */
  readonly podId: number;
  /** The pod's id in the ingestion worker's messages (unique for the process, never reused); -1 in-thread. */
  readonly feedId: number;
  readonly target: FeedTarget;
  readonly stream: FeedStream;
  /** The caller's object for the pod, as of the last sync. */
  owner: object | undefined;
  /** Whether a ZMQ socket of its own is open for it (llm-d's active subscribers). */
  subscribed = false;
  /** Occurrences of each problem since the feed started. */
  readonly problems = new Map<FeedProblem, number>();
  readonly zmqErrors = new Map<string, number>();
  reconnectAttempts = 0;
  /** The base model last told to the worker (replayed stores before the first live topic are keyed by it). */
  baseModel: string | null = null;
  readonly #logged = new Set<FeedProblem>();

  constructor(address: string, podId: number, feedId: number, target: FeedTarget, stream: FeedStream) {
    this.address = address;
    this.podId = podId;
    this.feedId = feedId;
    this.target = target;
    this.owner = target.owner;
    this.stream = stream;
  }

  /** Counts a problem; true the first time it is seen for this pod (log it then, once). */
  count(p: FeedProblem, n = 1): boolean {
    this.problems.set(p, (this.problems.get(p) ?? 0) + n);
    if (this.#logged.has(p)) return false;
    this.#logged.add(p);
    return true;
  }
}
