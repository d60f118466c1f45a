/**
 * The messages between the request thread and the KV-event ingestion worker. Plain data only (structured clone);
 * index writes travel as transferred Int32Arrays (index-ops.ts). Pods are named by feed ids the request thread
 * hands out, unique for the process, so a message about a pod that has left since is recognised and dropped.
 */
import type { KvEventsSettings } from './kv-events-settings.js';
import type { ReplayStats } from './pod-stream-contract.js';
import type { FeedEndpoints, FeedProblem } from './pod-feeds.js';
import type { PodStreamOptions, UntrustedReason } from './pod-stream-contract.js';
import type { SubscriptionOptions } from './zmq-subscription.js';

/** Stream and socket tuning that can cross to the worker (no callbacks). */
export interface IngestTuning {
  stream?: Partial<PodStreamOptions>;
  subscription?: Partial<Omit<SubscriptionOptions, 'onError' | 'onReconnectAttempt'>>;
}

export type ToWorker =
  | { t: 'tuning'; tuning: IngestTuning }
  | { t: 'view'; view: number; settings: KvEventsSettings }
  | { t: 'drop-view'; view: number }
  | { t: 'add'; view: number; feed: number; address: string; target: FeedEndpoints; baseModel: string | null }
  | { t: 'remove'; feed: number }
  | { t: 'base-model'; feed: number; model: string | null }
  /** One entry per request that needed new blocks (silence detection), batched per event-loop turn. */
  | { t: 'expect'; feeds: number[] }
  | { t: 'close' }
  /** The process is exiting without a close: close the sockets now, then set done[0] to 1 and notify. */
  | { t: 'close-now'; done: Int32Array }
  /** Throws inside the worker: tests use it to check that a crash is survived. */
  | { t: 'crash' };

/** A pod's stream state and what went wrong since the last post (deltas). */
export interface FeedStatus {
  feed: number;
  messages: number;
  lastMessageAt: number;
  untrusted: UntrustedReason | null;
  subscribed: boolean;
  /** [problem, occurrences, detail of the first]. */
  problems?: [FeedProblem, number, string][];
  /** [operation, occurrences, message of the first]. */
  zmqErrors?: [string, number, string][];
  reconnects?: number;
  /** The stream's replay stats (pod-stream.ts ReplayStats). */
  replays: ReplayStats;
}

export type FromWorker =
  /** Index writes per view (applied in order), then the feeds whose status changed. */
  | { t: 'update'; ops: [number, Int32Array][]; status: FeedStatus[]; /** [view, counter key, increment] (event-ingestor.ts). */ counts?: [number, string, number][] }
  | { t: 'log'; level: 'warn' | 'error'; message: string; fields: Record<string, unknown> }
  | { t: 'closed' };
