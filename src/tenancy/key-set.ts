/** The keys in force, by hash: what a presented key authenticates as. Immutable; a reload builds a new one. */
import { hashApiKey } from './api-key.js';
import type { KeyEntry } from './key-entry.js';

export class KeySet {
  readonly #byHash: ReadonlyMap<string, KeyEntry>;
  readonly size: number;

  constructor(entries: readonly KeyEntry[]) {
    const m = new Map<string, KeyEntry>();
    for (const e of entries) m.set(e.keyHash, e);
    this.#byHash = m;
    this.size = m.size;
  }

  /** The entry of a key as presented (hashed here); undefined for an unknown key. */
  lookup(key: string): KeyEntry | undefined {
    return this.#byHash.get(hashApiKey(key));
  }

  /** Tenant names, for metrics and logs (never keys or hashes). */
  tenants(): string[] {
    return [...new Set([...this.#byHash.values()].map((e) => e.tenant.name))];
  }
}
