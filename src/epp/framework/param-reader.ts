/** Typed access to a plugin's YAML `parameters`, with errors that name the plugin and the parameter. */
import { MAX_DURATION_MS, parseGoDuration } from '../../go-duration.js';

/** Which plugin a parameter belongs to: `at` is where it is declared (`plugins[2]`). */
export interface PluginSite {
  at: string;
  name: string;
  type: string;
}

/** `plugins[2] (prefix-cache-scorer)` or, when the name differs from the type, `plugins[2] "gpu" (prefix-cache-scorer)`. */
export function formatSite(site: PluginSite): string {
  return site.name === site.type ? `${site.at} (${site.type})` : `${site.at} "${site.name}" (${site.type})`;
}

/** A plugin cannot be built as configured. `field` is `type` or `parameters.<key>`. */
export class PluginConfigError extends Error {
  readonly site: PluginSite;
  readonly field: string;
  readonly reason: string;

  constructor(site: PluginSite, field: string, reason: string) {
    super(`${formatSite(site)}: ${field}: ${reason}`);
    this.name = 'PluginConfigError';
    this.site = site;
    this.field = field;
    this.reason = reason;
  }
}

/** How a value reads in a message: strings quoted, structures named. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}

/**
 * Reads parameters by name with a default for each. Every getter records the key as known; `finish` then
 * rejects the keys nobody asked for, listing the known ones (a typo in `lruCapacityPerServer` must not silently
 * fall back to the default). Getters throw PluginConfigError on the first invalid value.
 */
export class ParamReader {
  readonly site: PluginSite;
  #params: Record<string, unknown>;
  #known = new Set<string>();
  #warn: (message: string) => void;
  /** `tokenProcessorConfig.` for a nested mapping's reader: messages name the whole path. */
  readonly #path: string;
  readonly #children: ParamReader[] = [];

  constructor(site: PluginSite, params: Record<string, unknown>, warn: (message: string) => void = () => {}, path = '') {
    this.site = site;
    this.#params = params;
    this.#warn = warn;
    this.#path = path;
  }

  /**
   * A reader of the nested mapping under `key` (llm-d's `tokenProcessorConfig: {blockSize: 64}`), empty when it is
   * absent. Its messages name `parameters.key.sub`, and its unknown keys are rejected by this reader's `finish`.
   */
  child(key: string): ParamReader {
    const v = this.raw(key);
    if (v !== undefined && v !== null && (typeof v !== 'object' || Array.isArray(v))) this.fail(key, `must be a mapping, got ${describeValue(v)}`);
    const c = new ParamReader(this.site, (v ?? {}) as Record<string, unknown>, this.#warn, `${this.#path}${key}.`);
    this.#children.push(c);
    return c;
  }

  /** The raw value (undefined or null when absent); marks the key known. */
  raw(key: string): unknown {
    this.#known.add(key);
    return this.#params[key];
  }

  has(key: string): boolean {
    this.#known.add(key);
    const v = this.#params[key];
    return v !== undefined && v !== null;
  }

  fail(key: string, reason: string): never {
    throw new PluginConfigError(this.site, `parameters.${this.#path}${key}`, reason);
  }

  warn(message: string): void {
    this.#warn(`${formatSite(this.site)}: ${message}`);
  }

  int(key: string, def: number, range: { min?: number; max?: number } = {}): number {
    const v = this.raw(key);
    if (v === undefined || v === null) return def;
    const { min, max } = range;
    const what = min === 1 && max === undefined ? 'a positive integer' : min === 0 && max === undefined ? 'a non-negative integer' : 'an integer';
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, `must be ${what}, got ${describeValue(v)}`);
    if (min !== undefined && v < min) this.fail(key, `must be ${what}${what === 'an integer' ? ` >= ${min}` : ''}, got ${v}`);
    if (max !== undefined && v > max) this.fail(key, `must be at most ${max}, got ${v}`);
    return v;
  }

  positiveInt(key: string, def: number): number {
    return this.int(key, def, { min: 1 });
  }

  number(key: string, def: number, range: { min?: number; max?: number; above?: number } = {}): number {
    const v = this.raw(key);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `must be a number, got ${describeValue(v)}`);
    if (range.above !== undefined && v <= range.above) this.fail(key, `must be above ${range.above}, got ${v}`);
    if (range.min !== undefined && v < range.min) this.fail(key, `must be at least ${range.min}, got ${v}`);
    if (range.max !== undefined && v > range.max) this.fail(key, `must be at most ${range.max}, got ${v}`);
    return v;
  }

  boolean(key: string, def: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${describeValue(v)}`);
    return v;
  }

  string(key: string, def: string): string {
    const v = this.raw(key);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'string') this.fail(key, `must be a string, got ${describeValue(v)}`);
    return v;
  }

  oneOf<T extends string>(key: string, def: T, choices: readonly T[]): T {
    const v = this.string(key, def);
    if (!(choices as readonly string[]).includes(v)) this.fail(key, `must be one of ${choices.join(', ')}, got ${describeValue(v)}`);
    return v as T;
  }

  /** A Go duration string (`200ms`), in milliseconds. */
  durationMs(key: string, defMs: number): number {
    const v = this.raw(key);
    if (v === undefined || v === null) return defMs;
    const ms = typeof v === 'string' ? parseGoDuration(v) : undefined;
    if (ms === undefined) this.fail(key, `must be a duration such as "200ms" or "1.5s", got ${describeValue(v)}`);
    if (ms > MAX_DURATION_MS) this.fail(key, `must be at most 596h (Node.js keeps no timer past 24.8 days), got ${describeValue(v)}`);
    return ms;
  }

  /** A mapping of strings to strings (label sets). */
  stringMap(key: string): Record<string, string> {
    const v = this.raw(key);
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(key, `must be a mapping of strings, got ${describeValue(v)}`);
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (typeof val !== 'string') this.fail(`${key}.${k}`, `must be a string, got ${describeValue(val)}`);
      out[k] = val;
    }
    return out;
  }

  /** A list; each item is read by `item` with its path (`matchExpressions[0]`) for messages. */
  list<T>(key: string, item: (value: unknown, path: string) => T): T[] {
    const v = this.raw(key);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(key, `must be a list, got ${describeValue(v)}`);
    return v.map((x, i) => item(x, `${key}[${i}]`));
  }

  /** Accepts a parameter llm-d still parses but that does nothing here, with a warning when it is set. */
  ignored(key: string, why: string): void {
    if (this.has(key)) this.warn(`parameters.${this.#path}${key} is ignored: ${why}`);
  }

  /** Rejects every parameter no getter asked for (nested readers' too). Called by the registry after the factory returned. */
  finish(): void {
    for (const c of this.#children) c.finish();
    const unknown = Object.keys(this.#params).filter((k) => !this.#known.has(k));
    const first = unknown[0];
    if (first === undefined) return;
    const known = [...this.#known].sort();
    const hint = closest(first, known);
    this.fail(
      first,
      `unknown parameter${hint ? ` (did you mean ${hint}?)` : ''}; ${known.length > 0 ? `known parameters${this.#path ? ` of ${this.#path.slice(0, -1)}` : ''}: ${known.join(', ')}` : `${this.site.type} takes no parameters`}`,
    );
  }
}

/** The known name within edit distance 2 of `word` (case-insensitive), for "did you mean". */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
