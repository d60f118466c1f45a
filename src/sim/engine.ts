/** The simulated inference engine: admits requests into at most `maxNumSeqs` running slots; the rest wait FIFO. */

/** Why generation ended: the model stopped by itself, or it hit `max_tokens`. */
export type FinishReason = 'stop' | 'length';

/** Timing knobs. A later engine that models KV cache and batched steps takes the same requests. */
export interface EngineConfig {
  /** At most this many sequences generate at once (vLLM `--max-num-seqs`). */
  readonly maxNumSeqs: number;
  /** From admission to the first token, in milliseconds. */
  readonly ttftMs: number;
  /** Between consecutive tokens, in milliseconds. */
  readonly itlMs: number;
}

/** One request as the engine sees it: tokens in, tokens out, no HTTP. */
export interface EngineRequest {
  /** The LoRA adapter this request runs on; null for the base model. */
  readonly lora: string | null;
  /** The prompt; unused by the timer engine, kept for an engine that hashes prefix blocks. */
  readonly promptText: string;
  readonly promptTokens: number;
  /** What the model would say if nothing stopped it; the engine cuts it at `maxTokens`. */
  readonly output: readonly string[];
  readonly maxTokens: number | null;
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
  /** Exactly once, right after the last token (or after ttft when there are no tokens). */
  onFinish(result: GenerationResult): void;
}

/** Engine-level events for metrics. Times are in seconds, measured from when the request arrived. */
export interface EngineObserver {
  requestAdmitted(req: EngineRequest): void;
  firstToken(ttftSeconds: number): void;
  tokenGenerated(): void;
  requestFinished(finishReason: FinishReason, e2eSeconds: number): void;
}

/** A handle on a submitted request. */
export interface Generation {
  /** Leaves the queue or stops generating, freeing the slot; no-op once finished. */
  abort(): void;
}

interface Sequence {
  readonly req: EngineRequest;
  readonly listener: GenerationListener;
  readonly tokens: readonly string[];
  readonly arrivedAt: number;
  emitted: number;
  timer: NodeJS.Timeout | null;
  done: boolean;
}

/** Per-request timers, FIFO admission. Every timer belongs to a running sequence, so `close()` can clear them all. */
export class Engine {
  readonly #config: EngineConfig;
  readonly #observer: EngineObserver | null;
  readonly #waiting: Sequence[] = [];
  readonly #running = new Set<Sequence>();
  #closed = false;
  #submitted = 0;

  constructor(config: EngineConfig, observer: EngineObserver | null = null) {
    this.#config = config;
    this.#observer = observer;
  }

  get running(): number {
    return this.#running.size;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Requests submitted since the engine started, whatever became of them. */
  get submitted(): number {
    return this.#submitted;
  }

  /** Distinct adapters with a running request, for `vllm:lora_requests_info`. */
  runningAdapters(): string[] {
    return adaptersOf(this.#running);
  }

  waitingAdapters(): string[] {
    return adaptersOf(this.#waiting);
  }

  submit(req: EngineRequest, listener: GenerationListener): Generation {
    if (this.#closed) throw new Error('engine is closed');
    const tokens = req.maxTokens === null ? req.output : req.output.slice(0, req.maxTokens);
    const seq: Sequence = { req, listener, tokens, arrivedAt: performance.now(), emitted: 0, timer: null, done: false };
    this.#submitted++;
    this.#waiting.push(seq);
    this.#admit();
    return { abort: () => this.#abort(seq) };
  }

  /** Drops every request without calling listeners and clears every timer. */
  close(): void {
    this.#closed = true;
    for (const seq of [...this.#waiting, ...this.#running]) this.#retire(seq);
  }

  #admit(): void {
    while (!this.#closed && this.#running.size < this.#config.maxNumSeqs) {
      const seq = this.#waiting.shift();
      if (seq === undefined) return;
      this.#running.add(seq);
      this.#observer?.requestAdmitted(seq.req);
      seq.timer = setTimeout(() => this.#step(seq), this.#config.ttftMs);
    }
  }

  #step(seq: Sequence): void {
    seq.timer = null;
    const { tokens } = seq;
    try {
      if (seq.emitted < tokens.length) {
        const index = seq.emitted++;
        if (index === 0) this.#observer?.firstToken(this.#since(seq));
        this.#observer?.tokenGenerated();
        const last = seq.emitted === tokens.length;
        seq.listener.onToken(tokens[index] ?? '', index, last ? this.#finishReason(seq) : null);
        if (!last && !seq.done) {
          seq.timer = setTimeout(() => this.#step(seq), this.#config.itlMs);
          return;
        }
      } else {
        this.#observer?.firstToken(this.#since(seq));
      }
      if (seq.done) return;
      const finishReason = this.#finishReason(seq);
      this.#retire(seq);
      this.#observer?.requestFinished(finishReason, this.#since(seq));
      seq.listener.onFinish({ finishReason, promptTokens: seq.req.promptTokens, completionTokens: tokens.length });
    } catch {
      // A listener that throws loses its request, never the engine (this runs on a timer: it would crash the process).
      this.#retire(seq);
    }
    this.#admit();
  }

  #finishReason(seq: Sequence): FinishReason {
    const { maxTokens } = seq.req;
    // Like vLLM: reaching max_tokens is "length" even if the model would have stopped right there.
    return maxTokens !== null && seq.tokens.length >= maxTokens ? 'length' : 'stop';
  }

  #since(seq: Sequence): number {
    return (performance.now() - seq.arrivedAt) / 1000;
  }

  #abort(seq: Sequence): void {
    if (seq.done) return;
    this.#retire(seq);
    this.#admit();
  }

  #retire(seq: Sequence): void {
    seq.done = true;
    if (seq.timer !== null) clearTimeout(seq.timer);
    seq.timer = null;
    this.#running.delete(seq);
    const i = this.#waiting.indexOf(seq);
    if (i >= 0) this.#waiting.splice(i, 1);
  }
}

function adaptersOf(seqs: Iterable<Sequence>): string[] {
  const names = new Set<string>();
  for (const seq of seqs) if (seq.req.lora !== null) names.add(seq.req.lora);
  return [...names];
}
