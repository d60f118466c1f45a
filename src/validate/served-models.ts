/** Which model names are served, as base models or as adapters, and who says so: allowlists and servers. */
import type { Allowlist } from '../api/allowlist.js';
import { keyOf } from '../api/object-meta.js';
import { adapterBase, describeServer, type ModelServer } from './model-servers.js';

/**
 * An index of served names. Built over every allowlist and server for "is this served anywhere?", or over a
 * pool's ready servers alone for "does this pool serve it?".
 */
export class ServedModels {
  /** Base model -> where it is named (`ConfigMap llm-d/gemma-allowlist`, `Pod llm-d/gemma-0 (vLLM args)`). */
  readonly bases = new Map<string, string[]>();
  /** Adapter -> base model -> where that is said. */
  readonly adapters = new Map<string, Map<string, string[]>>();
  /** Base models named in an allowlist ConfigMap (what GIE's body-based router knows). */
  readonly allowlisted = new Set<string>();
  /** Servers whose models are not known (no model-server command line, not probed). */
  readonly unknown: readonly ModelServer[];

  constructor(allowlists: readonly Allowlist[], servers: readonly ModelServer[]) {
    for (const a of allowlists) {
      if (!a.baseModel) continue;
      const origin = `ConfigMap ${keyOf(a.meta)}`;
      this.#base(a.baseModel, origin);
      this.allowlisted.add(a.baseModel);
      for (const name of a.adapters) this.#adapter(name, a.baseModel, origin);
    }
    for (const s of servers) {
      if (!s.served) continue;
      const origin = `${describeServer(s)} (${s.served.from})`;
      for (const b of s.served.bases) this.#base(b, origin);
      for (const name of s.served.adapters) {
        const base = adapterBase(s.served, name);
        if (base !== undefined) this.#adapter(name, base, origin);
      }
    }
    this.unknown = servers.filter((s) => !s.served);
  }

  /** True when every server's models are known, so "not served" is certain rather than "not seen". */
  get complete(): boolean {
    return this.unknown.length === 0;
  }

  /** The base models a client's `model` maps to: itself when it is a base, its bases when it is an adapter. */
  basesOf(model: string): string[] {
    if (this.bases.has(model)) return [model];
    return [...(this.adapters.get(model)?.keys() ?? [])];
  }

  /** Whether `model` is served at all, as a base model or as an adapter. */
  serves(model: string): boolean {
    return this.bases.has(model) || this.adapters.has(model);
  }

  #base(name: string, origin: string): void {
    const list = this.bases.get(name) ?? [];
    if (!list.includes(origin)) list.push(origin);
    this.bases.set(name, list);
  }

  #adapter(name: string, base: string, origin: string): void {
    const byBase = this.adapters.get(name) ?? new Map<string, string[]>();
    const list = byBase.get(base) ?? [];
    if (!list.includes(origin)) list.push(origin);
    byBase.set(base, list);
    this.adapters.set(name, byBase);
  }
}

/** Names for messages, sorted and deduplicated: `a, b, c` (at most `max`, then "and N more"). */
export function listNames(names: Iterable<string>, max = 8): string {
  const all = [...new Set(names)].sort();
  if (all.length === 0) return '(none)';
  return all.length <= max ? all.join(', ') : `${all.slice(0, max).join(', ')} and ${all.length - max} more`;
}

/** " What 2 servers serve is not known (Pod a, Pod b: ...), so this may be served there." for messages; empty when all are known. */
export function unknownNote(unknown: readonly ModelServer[], probed: boolean): string {
  if (unknown.length === 0) return '';
  const names = unknown.slice(0, 3).map(describeServer).join(', ') + (unknown.length > 3 ? `, and ${unknown.length - 3} more` : '');
  return ` What ${unknown.length} server${unknown.length === 1 ? '' : 's'} serve${unknown.length === 1 ? 's' : ''} is not known (${names}: no vLLM --model/--served-model-name in the container args${probed ? ', and GET /v1/models did not answer' : '; --probe asks GET /v1/models'}), so this may be served there.`;
}
