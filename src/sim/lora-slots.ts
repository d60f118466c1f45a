/** LoRA slots: at most `maxLoras` distinct adapters in the running batch, and which adapters are loaded on the GPU. */

/**
 * Counts running requests per adapter (base-model requests take no slot). An adapter stays resident after
 * its last request ends, so running it again costs no load, until a different adapter needs its slot
 * (least recently used first), as vLLM's LRU adapter cache does.
 */
export class LoraSlots {
  readonly maxLoras: number;
  /** Adapter -> running requests; insertion order is the order adapters became active. */
  readonly #running = new Map<string, number>();
  /** Loaded adapters, least recently started first; never more than maxLoras. */
  readonly #resident: string[] = [];

  constructor(maxLoras: number) {
    this.maxLoras = maxLoras;
  }

  /** Whether a request for `lora` may join the batch now. */
  canRun(lora: string | null): boolean {
    return lora === null || this.#running.has(lora) || this.#running.size < this.maxLoras;
  }

  /** Counts a request for `lora` as running (call only when `canRun`); true when the adapter had to be loaded. */
  start(lora: string | null): boolean {
    if (lora === null) return false;
    this.#running.set(lora, (this.#running.get(lora) ?? 0) + 1);
    const i = this.#resident.indexOf(lora);
    if (i >= 0) {
      this.#resident.splice(i, 1);
      this.#resident.push(lora);
      return false;
    }
    if (this.#resident.length >= this.maxLoras) {
      const idle = this.#resident.findIndex((a) => !this.#running.has(a));
      this.#resident.splice(Math.max(0, idle), 1);
    }
    this.#resident.push(lora);
    return true;
  }

  /** One request for `lora` left the batch (finished, aborted or preempted). */
  release(lora: string | null): void {
    if (lora === null) return;
    const n = (this.#running.get(lora) ?? 0) - 1;
    if (n > 0) this.#running.set(lora, n);
    else this.#running.delete(lora);
  }

  /** Adapters with a running request, for `running_lora_adapters`. */
  runningAdapters(): string[] {
    return [...this.#running.keys()];
  }
}
