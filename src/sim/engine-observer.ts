/** What the engine tells metrics as it runs, and what metrics read from it at scrape time. */
import type { FinishReason } from './generation.js';

/** Engine events for metrics. Durations are in seconds; token times are the engine's step times. */
export interface EngineObserver {
  /** The first time a request leaves the queue: its prompt is about to be prefilled. */
  requestScheduled(promptTokens: number, queueSeconds: number): void;
  /** Each admission (re-admissions after preemption too) looks the prompt up in the prefix cache, in tokens. */
  prefixCacheQueried(queriedTokens: number, hitTokens: number): void;
  requestPreempted(): void;
  /** TTFT as the client sees it: from arrival, queueing included. */
  firstToken(ttftSeconds: number): void;
  /** The gap before every token after the first. */
  interTokenLatency(seconds: number): void;
  tokenGenerated(): void;
  requestFinished(finished: FinishedRequest): void;
}

/** A request that ran to its end, timed as vLLM's FinishedRequestStats: phases from its first scheduling. */
export interface FinishedRequest {
  readonly finishReason: FinishReason;
  /** Arrival to the last token. */
  readonly e2eSeconds: number;
  /** First scheduling to the first token. */
  readonly prefillSeconds: number;
  /** First token to the last. */
  readonly decodeSeconds: number;
  /** First scheduling to the last token. */
  readonly inferenceSeconds: number;
  readonly promptTokens: number;
  readonly generationTokens: number;
  /** The request's `max_tokens`; null when it set none. */
  readonly maxTokens: number | null;
}

/** What `/metrics` reads from the engine at scrape time. */
export interface EngineGauges {
  readonly running: number;
  readonly waiting: number;
  /** Held KV blocks / all blocks, 0..1. */
  readonly kvCacheUsage: number;
  runningAdapters(): string[];
  waitingAdapters(): string[];
}
