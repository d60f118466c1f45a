/** The contract between the HTTP side and the engine: one request in, tokens and a result out. */

/** Why generation ended: the model stopped by itself, or it hit `max_tokens` (or the context length). */
export type FinishReason = 'stop' | 'length';

/** One request as the engine sees it: tokens in, tokens out, no HTTP. */
export interface EngineRequest {
  /** The LoRA adapter this request runs on; null for the base model. */
  readonly lora: string | null;
  /** `cache_salt`: its prompt's blocks are cached apart from every other salt's (and from unsalted ones). */
  readonly cacheSalt?: string | null;
  /** The prompt text; hashed in KV blocks for prefix caching. */
  readonly promptText: string;
  /** What `usage.prompt_tokens` reports (the ~4 chars/token estimate of `promptText`). */
  readonly promptTokens: number;
  /** What the model would say if nothing stopped it; the engine cuts it at `maxTokens`. */
  readonly output: readonly string[];
  readonly maxTokens: number | null;
  /** The output already ends at a stop string: it finishes with "stop" even when that was the max_tokens-th token. */
  readonly stopped?: boolean;
  /**
   * P/D's decode leg (`kv_transfer_params.do_remote_prefill`): the prompt's KV was computed on a prefill pod and is
   * pulled, so only its last token is computed here (vLLM with the NIXL connector).
   */
  readonly remotePrefilled?: boolean;
}

/** What a finished generation reports, for `usage`. */
export interface GenerationResult {
  readonly finishReason: FinishReason;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** Receives one request's output. Neither method is called again after the generation is aborted. */
export interface GenerationListener {
  /** Once per token, in order; `finishReason` is non-null on the last token only. */
  onToken(text: string, index: number, finishReason: FinishReason | null): void;
  /** Exactly once, right after the last token (or after the prefill when there are no tokens). */
  onFinish(result: GenerationResult): void;
}

/** A handle on a submitted request. */
export interface Generation {
  /** Leaves the queue or stops generating, freeing its slot and KV blocks; no-op once finished. */
  abort(): void;
}
