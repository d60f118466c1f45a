/** vLLM V1's scheduling decision for one step: which sequences run and how many tokens each computes. */
import type { EngineConfig } from './engine-config.js';
import type { KvCache } from './kv-cache.js';
import type { LoraSlots } from './lora-slots.js';
import type { Sequence } from './sequence.js';
import type { StepWork } from './step-cost.js';
import type { WaitingQueue } from './waiting-queue.js';
import { maxHitBlocks, tokensToCompute } from './sequence.js';

/** What the engine hears about from a plan. */
export interface PlannerHooks {
  /** `seq` lost its blocks and went back to the head of the queue; it will recompute what it had. */
  preempted(seq: Sequence): void;
  /** `seq` left the queue; `hitTokens` of its prompt came from the prefix cache. */
  admitted(seq: Sequence, hitTokens: number): void;
}

/**
 * Plans like vllm/v1/core/sched/scheduler.py: first the running sequences, oldest first, each taking what
 * it still has to compute (one token when decoding) out of the step's token budget; a sequence that needs
 * a block when none is free preempts the newest running one (possibly itself). Then, unless that happened,
 * waiting sequences in FCFS order while slots and budget last: one whose adapter finds no LoRA slot is
 * skipped, one whose prompt does not fit in the free blocks stops admission.
 */
export class StepPlanner {
  /** The sequences of the planned step, in order; reused between steps. */
  readonly scheduled: Sequence[] = [];
  readonly work: StepWork = { sequences: 0, prefillTokens: 0, adaptersLoaded: 0 };
  readonly #config: EngineConfig;
  readonly #kv: KvCache;
  readonly #loras: LoraSlots;
  readonly #running: Sequence[];
  readonly #waiting: WaitingQueue;
  readonly #hooks: PlannerHooks;

  constructor(config: EngineConfig, kv: KvCache, loras: LoraSlots, running: Sequence[], waiting: WaitingQueue, hooks: PlannerHooks) {
    this.#config = config;
    this.#kv = kv;
    this.#loras = loras;
    this.#running = running;
    this.#waiting = waiting;
    this.#hooks = hooks;
  }

  /** Fills `scheduled` and `work`; false when there is nothing to run. */
  plan(): boolean {
    this.scheduled.length = 0;
    const work = this.work;
    work.prefillTokens = 0;
    work.adaptersLoaded = 0;
    let budget = this.#config.maxNumBatchedTokens;
    const preempted = this.#planRunning(budget);
    for (const seq of this.scheduled) budget -= seq.chunk;
    if (!preempted) this.#planWaiting(budget);
    work.sequences = this.scheduled.length;
    return work.sequences > 0;
  }

  /** Returns whether anything was preempted. */
  #planRunning(budget: number): boolean {
    const running = this.#running;
    let preempted = false;
    for (let i = 0; i < running.length && budget > 0; i++) {
      const seq = running[i]!;
      if (!Number.isNaN(seq.dueAt)) continue; // sitting out ttftMs before its first token
      const n = Math.min(tokensToCompute(seq), budget);
      let fits = true;
      while (!this.#kv.grow(seq, seq.computed + n)) {
        const victim = running[running.length - 1]!;
        this.preempt(victim);
        preempted = true;
        if (victim === seq) {
          fits = false;
          break;
        }
      }
      if (!fits) break;
      this.#schedule(seq, n);
      budget -= n;
    }
    return preempted;
  }

  #planWaiting(budget: number): void {
    const { maxNumSeqs, blockSize } = this.#config;
    const running = this.#running;
    const waiting = this.#waiting;
    let i = 0;
    while (i < waiting.length && running.length < maxNumSeqs && budget > 0) {
      const seq = waiting.at(i)!;
      if (!this.#loras.canRun(seq.req.lora)) {
        i++; // vLLM skips it and keeps FCFS among the rest
        continue;
      }
      const hitBlocks = this.#kv.cachedPrefix(seq.hashes, maxHitBlocks(seq, blockSize));
      const hitTokens = hitBlocks * blockSize;
      // A decode leg of P/D pulls the prompt's KV from the prefill pod: all but its last token count as computed
      // (a preempted one computes them again here, as vLLM recomputes a preempted request).
      seq.computed = seq.req.remotePrefilled === true && seq.generated === 0 ? Math.max(hitTokens, seq.promptLen - 1) : hitTokens;
      const n = Math.min(tokensToCompute(seq), budget);
      if (!this.#kv.admit(seq, hitBlocks, seq.computed + n)) {
        seq.computed = 0;
        break; // no room in the KV cache: later arrivals must not overtake it
      }
      waiting.removeAt(i);
      seq.state = 'running';
      running.push(seq);
      if (this.#loras.start(seq.req.lora)) this.work.adaptersLoaded++;
      this.#hooks.admitted(seq, hitTokens);
      this.#schedule(seq, n);
      budget -= n;
    }
  }

  #schedule(seq: Sequence, n: number): void {
    seq.chunk = n;
    this.scheduled.push(seq);
    // A decode computes the one token sampled last step; anything more is prefill (or recomputation).
    const decoding = n === 1 && seq.generated > 0 && seq.computed === seq.promptLen + seq.generated - 1;
    if (!decoding) this.work.prefillTokens += n;
  }

  /** Sends the newest running sequence, `seq`, back to the head of the queue; it releases everything it held. */
  preempt(seq: Sequence): void {
    this.#running.pop();
    this.#kv.release(seq);
    this.#loras.release(seq.req.lora);
    seq.computed = 0;
    seq.chunk = 0;
    seq.state = 'waiting';
    this.#waiting.unshift(seq);
    this.#hooks.preempted(seq);
  }
}
