/**
 * Tokenized prompt prefixes (and, per prefix, the last whole prompt rendered after it), least recently used first
 * out, bounded by the tokens they hold. A lookup that finds a fetch in progress joins it: a burst of requests with a
 * new system prompt tokenizes it once.
 */
import type { TokenizedPrompt } from './tokenized-prompt.js';

interface Entry {
  value: TokenizedPrompt | undefined;
  pending: Promise<TokenizedPrompt | undefined> | undefined;
  tokens: number;
}

export class TokenCache {
  readonly maxTokens: number;
  readonly #byModel = new Map<string, Map<string, Entry>>();
  /** Every entry in LRU order (oldest first), for eviction across models. */
  readonly #lru = new Map<Entry, [string, string]>();
  #tokens = 0;
  hits = 0;
  misses = 0;

  constructor(maxTokens: number) {
    this.maxTokens = maxTokens;
  }

  /** Tokens held now. */
  get tokens(): number {
    return this.#tokens;
  }

  get size(): number {
    return this.#lru.size;
  }

  /** The cached prefix (made most recent), or the fetch in progress for it; undefined when neither. */
  get(model: string, key: string): TokenizedPrompt | Promise<TokenizedPrompt | undefined> | undefined {
    const e = this.#byModel.get(model)?.get(key);
    if (!e) {
      this.misses++;
      return undefined;
    }
    this.#lru.delete(e);
    this.#lru.set(e, [model, key]);
    if (e.value) {
      this.hits++;
      return e.value;
    }
    return e.pending;
  }

  /** The value held for (model, key), made most recent, outside the hit and miss tallies; undefined when none. */
  peek(model: string, key: string): TokenizedPrompt | undefined {
    const e = this.#byModel.get(model)?.get(key);
    if (!e?.value) return undefined;
    this.#lru.delete(e);
    this.#lru.set(e, [model, key]);
    return e.value;
  }

  /** Holds `value` for (model, key) in place of what was there (a fetch in progress for it is left to finish unkept). */
  put(model: string, key: string, value: TokenizedPrompt): void {
    const old = this.#byModel.get(model)?.get(key);
    if (old) this.#drop(old);
    let byKey = this.#byModel.get(model);
    if (!byKey) this.#byModel.set(model, (byKey = new Map()));
    const entry: Entry = { value, pending: undefined, tokens: value.tokens.length };
    byKey.set(key, entry);
    this.#lru.set(entry, [model, key]);
    this.#tokens += entry.tokens;
    this.#trim();
  }

  /**
   * Starts `fetch` for (model, key) and keeps its result when it has one; a failed fetch leaves no entry (the
   * next request tries again). Returns the fetch's promise.
   */
  fill(model: string, key: string, fetch: () => Promise<TokenizedPrompt | undefined>): Promise<TokenizedPrompt | undefined> {
    let byKey = this.#byModel.get(model);
    if (!byKey) this.#byModel.set(model, (byKey = new Map()));
    const entry: Entry = { value: undefined, pending: undefined, tokens: 0 };
    byKey.set(key, entry);
    this.#lru.set(entry, [model, key]);
    const p = fetch().then(
      (value) => {
        entry.pending = undefined;
        if (!value || byKey.get(key) !== entry) {
          this.#drop(entry);
          return value;
        }
        entry.value = value;
        entry.tokens = value.tokens.length;
        this.#tokens += entry.tokens;
        this.#trim();
        return value;
      },
      () => {
        this.#drop(entry);
        return undefined;
      },
    );
    entry.pending = p;
    return p;
  }

  #trim(): void {
    for (const e of this.#lru.keys()) {
      if (this.#tokens <= this.maxTokens) return;
      this.#drop(e);
    }
  }

  #drop(e: Entry): void {
    const where = this.#lru.get(e);
    if (!where) return;
    this.#lru.delete(e);
    this.#tokens -= e.tokens;
    const byKey = this.#byModel.get(where[0]);
    if (byKey?.get(where[1]) === e) {
      byKey.delete(where[1]);
      if (byKey.size === 0) this.#byModel.delete(where[0]);
    }
  }
}
