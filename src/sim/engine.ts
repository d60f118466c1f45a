/** The simulated vLLM engine: one step loop over a continuous batch, with a KV cache, prefix caching and LoRA slots. */
import type { Clock, TimerHandle } from './clock.js';
import type { EngineConfig } from './engine-config.js';
import type { EngineGauges, EngineObserver } from './engine-observer.js';
import type { EngineRequest, Generation, GenerationListener } from './generation.js';
import type { KvCacheListener } from './kv-cache.js';
import type { Sequence, SequenceLimits } from './sequence.js';
import { realClock } from './clock.js';
import { hashFilledBlock } from './decode-blocks.js';
import { KvCache } from './kv-cache.js';
import { LoraSlots } from './lora-slots.js';
import { newSequence } from './sequence.js';
import { StepCost } from './step-cost.js';
import { StepPlanner } from './step-planner.js';
import { Tokenizer } from './tokenizer.js';
import { QueueFullError, WaitingQueue } from './waiting-queue.js';

/** Hears the KV cache's events (as vLLM's block pool reports them), step by step. */
export interface KvStepListener extends KvCacheListener {
  /** The engine planned or finished a step (or reset its cache): what was heard since the last call is one batch, as vLLM publishes per step. */
  endStep(): void;
}

/** What the engine runs on besides its config; tests pass a ManualClock and a seeded PRNG. */
export interface EngineDeps {
  readonly observer?: EngineObserver | null;
  readonly clock?: Clock;
  /** For step-time jitter; defaults to Math.random. */
  readonly random?: () => number;
  /** Turns prompts into the token ids the KV blocks hold; the simulator shares its /tokenize tokenizer. */
  readonly tokenizer?: Tokenizer;
  /** Hears KV-cache events (the simulator's KV-event publisher); none by default. */
  readonly kvEvents?: KvStepListener | null;
}

/** How far behind the wall clock step times may run before the loop stops catching up (a blocked event loop). */
const MAX_LAG_MS = 10;

/**
 * One timer at a time: armed for the end of the step in flight or the next first token sitting out ttftMs,
 * whichever comes first, and none when idle, so `close()` (or finishing the work) leaves nothing behind.
 * Steps follow each other back to back in engine time, so ITL does not drift with timer lateness.
 */
export class Engine implements EngineGauges {
  readonly #config: EngineConfig;
  readonly #observer: EngineObserver | null;
  readonly #clock: Clock;
  readonly #kv: KvCache;
  readonly #kvEvents: KvStepListener | null;
  readonly #tokenizer: Tokenizer;
  /** What every sequence is held to; the configuration's, fixed for the engine's life. */
  readonly #limits: SequenceLimits;
  readonly #loras: LoraSlots;
  readonly #waiting: WaitingQueue;
  readonly #running: Sequence[] = [];
  /** Prefilled sequences whose first token is due at `dueAt`, in that order. */
  readonly #held: Sequence[] = [];
  readonly #cost: StepCost;
  readonly #planner: StepPlanner;
  /** End of the step in flight; Infinity when no step runs. */
  #stepEnd = Infinity;
  #timer: TimerHandle | null = null;
  #timerAt = Infinity;
  #pumping = false;
  #closed = false;
  #submitted = 0;

  constructor(config: EngineConfig, deps: EngineDeps = {}) {
    this.#config = config;
    this.#observer = deps.observer ?? null;
    this.#clock = deps.clock ?? realClock;
    this.#kvEvents = deps.kvEvents ?? null;
    this.#kv = new KvCache(config.kvCacheSize, config.blockSize, this.#kvEvents);
    const tokenizer = deps.tokenizer ?? new Tokenizer();
    this.#tokenizer = tokenizer;
    this.#limits = { blockSize: config.blockSize, kvTokens: config.kvCacheSize * config.blockSize, enablePrefixCaching: config.enablePrefixCaching, tokenizer };
    this.#loras = new LoraSlots(config.maxLoras);
    this.#waiting = new WaitingQueue(config.maxWaitingQueueLength);
    this.#cost = new StepCost(config, deps.random ?? Math.random);
    this.#planner = new StepPlanner(config, this.#kv, this.#loras, this.#running, this.#waiting, {
      preempted: (seq) => {
        this.#unhold(seq);
        this.#observer?.requestPreempted();
      },
      admitted: (seq, hitTokens) => {
        const now = this.#clock.now();
        if (Number.isNaN(seq.scheduledAt)) {
          seq.scheduledAt = now;
          this.#observer?.requestScheduled(seq.req.promptTokens, (now - seq.arrivedAt) / 1000);
        }
        if (this.#config.enablePrefixCaching) this.#observer?.prefixCacheQueried(seq.promptLen + seq.generated, hitTokens);
      },
    });
  }

  get running(): number {
    return this.#running.length;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  get kvCacheUsage(): number {
    return this.#kv.usage;
  }

  /** Requests submitted since the engine started, whatever became of them. */
  get submitted(): number {
    return this.#submitted;
  }

  /** Whether `submit` would throw QueueFullError now. */
  get queueFull(): boolean {
    return this.#waiting.isFull(this.#config.maxNumSeqs - this.#running.length);
  }

  runningAdapters(): string[] {
    return this.#loras.runningAdapters();
  }

  waitingAdapters(): string[] {
    return this.#waiting.adapters();
  }

  /** Queues `req`; throws QueueFullError when the waiting queue is full. Listeners are never called from here. */
  submit(req: EngineRequest, listener: GenerationListener): Generation {
    if (this.#closed) throw new Error('engine is closed');
    if (this.queueFull) throw new QueueFullError(this.#config.maxWaitingQueueLength);
    const limits = this.#limits;
    // It could never be admitted and would block the queue for good; the HTTP side caps max_model_len below this.
    if (req.promptTokens > limits.kvTokens) throw new RangeError(`a ${req.promptTokens}-token prompt exceeds the KV cache (${limits.kvTokens} tokens)`);
    const seq = newSequence(this.#submitted++, req, listener, this.#clock.now(), limits);
    this.#waiting.push(seq);
    this.#kick();
    return { abort: () => this.#abort(seq) };
  }

  /**
   * vLLM's `reset_prefix_cache`: forgets every cached block (reporting AllBlocksCleared). While requests hold
   * blocks it refuses (false) unless `resetRunningRequests`, which first preempts every running request: they
   * go back to the head of the queue and recompute, as vLLM's scheduler does.
   */
  resetPrefixCache(resetRunningRequests = false): boolean {
    if (resetRunningRequests) {
      while (this.#running.length > 0) this.#planner.preempt(this.#running[this.#running.length - 1]!);
    }
    const reset = this.#kv.reset();
    this.#kvEvents?.endStep();
    if (resetRunningRequests) this.#kick();
    return reset;
  }

  /** Drops every request without calling listeners and clears the timer. */
  close(): void {
    this.#closed = true;
    for (const seq of [...this.#waiting.drain(), ...this.#running]) seq.state = 'done';
    this.#running.length = 0;
    this.#held.length = 0;
    this.#stepEnd = Infinity;
    this.#arm(this.#clock.now());
  }

  #abort(seq: Sequence): void {
    if (seq.state === 'done') return;
    this.#retire(seq);
    this.#kick();
  }

  /** Starts a step if none runs (work arrived or room freed up). Never calls listeners. */
  #kick(): void {
    if (this.#pumping || this.#closed || this.#stepEnd !== Infinity) return;
    const now = this.#clock.now();
    this.#startStep(now);
    this.#arm(now);
    this.#kvEvents?.endStep();
  }

  readonly #onTimer = (): void => {
    this.#timer = null;
    this.#timerAt = Infinity;
    this.#pump();
  };

  /** Ends the step if it is due, delivers due first tokens, starts the next step, re-arms the timer. */
  #pump(): void {
    this.#pumping = true;
    try {
      const now = this.#clock.now();
      let chainFrom = NaN;
      if (this.#stepEnd <= now) {
        chainFrom = this.#stepEnd;
        this.#stepEnd = Infinity;
        this.#completeStep(chainFrom);
      }
      while (this.#held.length > 0 && this.#held[0]!.dueAt <= now) {
        const seq = this.#held.shift()!;
        const at = seq.dueAt;
        seq.dueAt = NaN;
        this.#emit(seq, at);
      }
      if (!this.#closed && this.#stepEnd === Infinity) {
        this.#startStep(Number.isNaN(chainFrom) ? now : Math.max(chainFrom, now - MAX_LAG_MS));
      }
      this.#arm(now);
    } finally {
      this.#pumping = false;
      this.#kvEvents?.endStep();
    }
  }

  #startStep(start: number): void {
    if (this.#planner.plan()) this.#stepEnd = start + this.#cost.stepMs(this.#planner.work);
  }

  #arm(now: number): void {
    const at = Math.min(this.#stepEnd, this.#held[0]?.dueAt ?? Infinity);
    if (at === this.#timerAt && this.#timer !== null) return;
    if (this.#timer !== null) this.#clock.clearTimer(this.#timer);
    this.#timer = null;
    this.#timerAt = at;
    if (at !== Infinity) this.#timer = this.#clock.setTimer(this.#onTimer, at - now);
  }

  #completeStep(end: number): void {
    const { scheduled } = this.#planner;
    for (const seq of scheduled) {
      if (seq.state !== 'running') continue; // aborted during the step
      seq.computed += seq.chunk;
      seq.chunk = 0;
      this.#kv.commit(seq, seq.computed);
      if (seq.computed < seq.promptLen + seq.generated) continue; // a prefill chunk: no token yet
      if (seq.generated === 0 && this.#config.ttftMs > 0) {
        seq.dueAt = end + this.#config.ttftMs;
        this.#held.push(seq);
      } else {
        this.#emit(seq, end);
      }
    }
    scheduled.length = 0;
  }

  /** Delivers the sequence's next token (or, with no tokens at all, just its end). */
  #emit(seq: Sequence, stepTime: number): void {
    const at = Math.max(stepTime, seq.lastTokenAt);
    if (seq.generated === 0) {
      seq.firstTokenAt = at;
      this.#observer?.firstToken((at - seq.arrivedAt) / 1000);
    } else this.#observer?.interTokenLatency((at - seq.lastTokenAt) / 1000);
    seq.lastTokenAt = at;
    const { tokens } = seq;
    if (tokens.length > 0) {
      const index = seq.generated++;
      const last = seq.generated === tokens.length;
      // A block this token fills is cached once the next step computes the token; the last token never is (vLLM too).
      if (!last && this.#config.enablePrefixCaching && (seq.promptLen + seq.generated) % this.#config.blockSize === 0) {
        hashFilledBlock(seq, this.#config.blockSize, this.#tokenizer);
      }
      this.#observer?.tokenGenerated();
      try {
        seq.listener.onToken(tokens[index]!, index, last ? seq.finishReason : null);
      } catch {
        // A listener that throws loses its request, never the engine (this runs on a timer: it would crash the process).
        this.#retire(seq);
        return;
      }
      if (!last || seq.state === 'done') return;
    }
    this.#finish(seq, at);
  }

  #finish(seq: Sequence, at: number): void {
    this.#retire(seq);
    const first = Number.isNaN(seq.firstTokenAt) ? at : seq.firstTokenAt;
    this.#observer?.requestFinished({
      finishReason: seq.finishReason,
      e2eSeconds: (at - seq.arrivedAt) / 1000,
      prefillSeconds: (first - seq.scheduledAt) / 1000,
      decodeSeconds: (at - first) / 1000,
      inferenceSeconds: (at - seq.scheduledAt) / 1000,
      promptTokens: seq.req.promptTokens,
      generationTokens: seq.generated,
      maxTokens: seq.req.maxTokens,
    });
    try {
      seq.listener.onFinish({ finishReason: seq.finishReason, promptTokens: seq.req.promptTokens, completionTokens: seq.tokens.length });
    } catch {
      // Its resources are already released; nothing else depends on this listener.
    }
  }

  /** Takes `seq` out of the engine, releasing its slot, LoRA slot and KV blocks. */
  #retire(seq: Sequence): void {
    if (seq.state === 'waiting') this.#waiting.remove(seq);
    if (seq.state === 'running') {
      this.#running.splice(this.#running.indexOf(seq), 1);
      this.#kv.release(seq);
      this.#loras.release(seq.req.lora);
      this.#unhold(seq);
    }
    seq.state = 'done';
  }

  #unhold(seq: Sequence): void {
    if (Number.isNaN(seq.dueAt)) return;
    seq.dueAt = NaN;
    this.#held.splice(this.#held.indexOf(seq), 1);
  }
}
