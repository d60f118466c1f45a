/**
 * What a simulated pod serves: one base model, under one or more names, and its LoRA adapters, which
 * `/v1/load_lora_adapter` can change.
 */

/** One served name: the base model (no parent) or an adapter of it. */
export interface ServedModel {
  readonly id: string;
  /** vLLM reports the base model's `--model` and an adapter's path; an adapter given by `--lora` has none, so its name stands in. */
  readonly root: string;
  readonly parent: string | null;
}

/**
 * The base model is fixed; adapters come and go. Listing order: base, its other names, then adapters in the order
 * added. As vLLM's `--served-model-name a b`, every name of the base model is served and listed, each a base.
 */
export class ServedModels {
  /** The first name: metrics' `model_name` and adapters' `parent`. */
  readonly model: string;
  readonly #aliases: readonly string[];
  /** The base model's `root`: what vLLM's `--model` named, which `--served-model-name` does not change. */
  readonly #modelPath: string;
  /** Adapter name -> its path (vLLM reports it as `root`). */
  readonly #adapters = new Map<string, string>();

  constructor(model: string, adapters: readonly string[], aliases: readonly string[] = [], paths: Readonly<Record<string, string>> = {}, modelPath = model) {
    this.model = model;
    this.#modelPath = modelPath;
    this.#aliases = aliases.filter((a) => a !== model);
    for (const a of adapters) this.#adapters.set(a, paths[a] ?? a);
  }

  has(name: string): boolean {
    return name === this.model || this.#aliases.includes(name) || this.#adapters.has(name);
  }

  /** The adapter a request for `name` runs with: null for the base model under any of its names. */
  loraOf(name: string): string | null {
    return this.#adapters.has(name) ? name : null;
  }

  isAdapter(name: string): boolean {
    return this.#adapters.has(name);
  }

  adapters(): string[] {
    return [...this.#adapters.keys()];
  }

  list(): ServedModel[] {
    const bases = [this.model, ...this.#aliases].map((id) => ({ id, root: this.#modelPath, parent: null }));
    return [...bases, ...[...this.#adapters].map(([id, root]) => ({ id, root, parent: this.model }))];
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
