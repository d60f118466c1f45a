/** Which models a key may use: exact names or globs (`*` any run of characters, `?` one), matched against the model as the client names it. */

export class ModelAccess {
  /** The patterns as configured, for messages. */
  readonly patterns: readonly string[];
  readonly #exact = new Set<string>();
  readonly #globs: RegExp[] = [];
  readonly #all: boolean;

  constructor(patterns: readonly string[]) {
    this.patterns = patterns;
    for (const p of patterns) {
      if (!p.includes('*') && !p.includes('?')) this.#exact.add(p);
      else this.#globs.push(globToRegExp(p));
    }
    this.#all = patterns.includes('*');
  }

  /** Whether `model` (a base model or an adapter, as sent) is one of the key's. */
  allows(model: string): boolean {
    if (this.#all || this.#exact.has(model)) return true;
    for (const g of this.#globs) if (g.test(model)) return true;
    return false;
  }
}

function globToRegExp(glob: string): RegExp {
  let src = '^';
  for (const c of glob) src += c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  return new RegExp(`${src}$`, 's');
}
