/** What a simulated pod serves: one base model and its LoRA adapters, which `/v1/load_lora_adapter` can change. */

/** One served name: the base model (no parent) or an adapter of it. */
export interface ServedModel {
  readonly id: string;
  /** vLLM reports an adapter's path on disk; a simulated adapter loaded at startup has none, so its name stands in. */
  readonly root: string;
  readonly parent: string | null;
}

/** The base model is fixed; adapters come and go. Listing order: base, then adapters in the order added. */
export class ServedModels {
  readonly model: string;
  readonly #adapters = new Map<string, string>();

  constructor(model: string, adapters: readonly string[]) {
    this.model = model;
    for (const a of adapters) this.#adapters.set(a, a);
  }

  has(name: string): boolean {
    return name === this.model || this.#adapters.has(name);
  }

  isAdapter(name: string): boolean {
    return this.#adapters.has(name);
  }

  adapters(): string[] {
    return [...this.#adapters.keys()];
  }

  list(): ServedModel[] {
    return [{ id: this.model, root: this.model, parent: null }, ...[...this.#adapters].map(([id, root]) => ({ id, root, parent: this.model }))];
  }

  /** Adds an adapter; false when the name is already served. */
  add(name: string, path: string): boolean {
    if (this.has(name)) return false;
    this.#adapters.set(name, path);
    return true;
  }

  /** Removes an adapter; false when no adapter has that name. */
  remove(name: string): boolean {
    return this.#adapters.delete(name);
  }
}
