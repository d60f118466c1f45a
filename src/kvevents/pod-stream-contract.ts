/** What a pod's KV-event stream (pod-stream.ts) reports and is set with: its problems, replays, trust and options. */
import type { DecodedKvEventBatch, KvEventDecodeFailure } from './wire-format.js';

/** A pod's replays so far (llm-d's `kv_cache_events_replay_*` series). */
export interface ReplayStats {
  /** A replay is running. */
  active: boolean;
  /** Replays that brought the whole history asked for (their end marker came). */
  completed: number;
  /** Replays that ended without it (a timeout, a broken socket, an undecodable reply). */
  failed: number;
  /** Batches replays brought and applied. */
  processed: number;
  /** When the last replay completed (ms since epoch); 0 before the first. */
  lastCompletedAt: number;
}

/** What went wrong or was noticed, as a bounded metric label. */
export type StreamProblem =
  | KvEventDecodeFailure
  | 'unknown-event-type' // events of a type this gateway does not know (a newer vLLM): skipped, the rest applied
  | 'hash-as-bytes' // hashes sent as digest bytes instead of integers: converted as llm-d does
  | 'gap' // messages lost that no replay could bring back: the pod's entries were dropped
  | 'sequence-reset' // the publisher restarted (its numbers went back): the pod's entries were dropped
  | 'flood' // more than the flood limit in a second: dropped unread, the pod's entries dropped
  | 'silent' // requests sent to the pod that must have stored blocks, and no event: its publisher has gone quiet
  | 'replay-failed' // the replay socket did not answer in time
  | 'disconnected';

/** Problems that make the pod untrusted for the recovery period, as opposed to merely counted. */
export interface PodStreamSink {
  /** Applies one batch (in sequence order). */
  apply(topic: string | null, batch: DecodedKvEventBatch): void;
  /** Drops every entry of the pod: what the index holds for it may be wrong. */
  clear(): void;
  /** Starts a replay of every buffered batch from `fromSeq`; the answer comes back through replayReply/replayEnd. */
  replay(fromSeq: number): void;
  /** Counts `n` occurrences of a problem (and logs the first of each kind). */
  problem(p: StreamProblem, detail: string, n?: number): void;
}

export interface PodStreamOptions {
  /** Whether the pod has a replay socket. */
  replay: boolean;
  /** How long a pod stays untrusted after a fault with nothing new going wrong (ms). */
  recoveryMs: number;
  /** More payload bytes than this within one second is a flood (bytes/s). */
  floodBytesPerSecond: number;
  /** More messages than this within one second is a flood. */
  floodMessagesPerSecond: number;
  /**
   * A pod sent this many requests whose blocks it did not hold (so it must report storing them) with no event for
   * `silentMs` since the first of them has gone silent.
   */
  silentAfterRequests: number;
  silentMs: number;
  /** After a failed replay, no other is tried for this long (ms; llm-d's replayCooldown). */
  replayCooldownMs: number;
  /** Live messages kept while a replay runs; beyond, the rest count as lost. */
  maxBufferedDuringReplay: number;
}

export const DEFAULT_POD_STREAM_OPTIONS: PodStreamOptions = {
  replay: false,
  recoveryMs: 10_000,
  floodBytesPerSecond: 32 * 1024 * 1024,
  floodMessagesPerSecond: 5_000,
  silentAfterRequests: 3,
  silentMs: 5_000,
  replayCooldownMs: 30_000,
  maxBufferedDuringReplay: 10_000,
};

/** Why the pod is not trusted now; undefined when it is. */
export type UntrustedReason = 'connecting' | 'disconnected' | 'replaying' | 'resyncing' | 'flood' | 'silent' | 'recovering';
