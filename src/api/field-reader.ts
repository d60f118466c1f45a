/** A typed walk over untrusted YAML values that records every problem with its field path. */
import { didYouMean } from './closest-name.js';
import type { ConfigIssue, ConfigWarning, SourceLocation } from './config-issue.js';

export type Raw = unknown;

/**
 * Reads fields of one resource. Each getter returns a usable default after recording an issue, so one pass
 * reports every problem of the object instead of stopping at the first.
 */
export class FieldReader {
  readonly issues: ConfigIssue[] = [];
  /** Keys the reader ignores (unknown fields): never a reason to refuse the object. */
  readonly warnings: ConfigWarning[] = [];
  readonly location: SourceLocation;

  constructor(location: SourceLocation) {
    this.location = location;
  }

  fail(field: string | null, message: string): void {
    this.issues.push({ location: this.location, field, message });
  }

  /**
   * Warns about each key of `obj` that is not in `known` (a typo such as `endpointPickRef`), with the known
   * key meant or the `hints` entry for it. `consequence`, when given, says how the object then routes other
   * than written, and marks the warning `misroutes`.
   */
  unknownKeys(obj: Record<string, Raw> | undefined, at: string, known: readonly string[], consequence?: string, hints: Readonly<Record<string, string>> = {}): void {
    if (!obj) return;
    for (const key of Object.keys(obj)) {
      if (known.includes(key)) continue;
      const hint = Object.hasOwn(hints, key) ? ` (${hints[key]})` : didYouMean(key, known);
      const message = `is not a field infergate knows here, so it is ignored${hint}${consequence ? `: ${consequence}` : ''}`;
      this.warnings.push({ location: this.location, field: `${at}.${key}`, message, misroutes: consequence !== undefined });
    }
  }

  /** Warns that a value was taken as the field's own implementation takes it (ConfigWarning.lenient). */
  lenient(field: string, message: string): void {
    this.warnings.push({ location: this.location, field, message, misroutes: false, lenient: true });
  }

  object(value: Raw, field: string, required = false): Record<string, Raw> | undefined {
    if (value === undefined || value === null) {
      if (required) this.fail(field, 'is required');
      return undefined;
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.fail(field, `must be a mapping, got ${describe(value)}`);
      return undefined;
    }
    return value as Record<string, Raw>;
  }

  array(value: Raw, field: string, required = false): Raw[] {
    if (value === undefined || value === null) {
      if (required) this.fail(field, 'is required');
      return [];
    }
    if (!Array.isArray(value)) {
      this.fail(field, `must be a list, got ${describe(value)}`);
      return [];
    }
    return value;
  }

  string(value: Raw, field: string, required = false): string | undefined {
    if (value === undefined || value === null) {
      if (required) this.fail(field, 'is required');
      return undefined;
    }
    if (typeof value !== 'string') {
      this.fail(field, `must be a string, got ${describe(value)}`);
      return undefined;
    }
    if (required && value.trim() === '') {
      this.fail(field, 'must not be empty');
      return undefined;
    }
    return value;
  }

  integer(value: Raw, field: string, min: number, max: number, required = false): number | undefined {
    if (value === undefined || value === null) {
      if (required) this.fail(field, 'is required');
      return undefined;
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(field, `must be an integer from ${min} to ${max}, got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  oneOf<T extends string>(value: Raw, field: string, allowed: readonly T[], fallback: T): T {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.fail(field, `must be one of ${allowed.join(', ')}, got ${describe(value)}`);
      return fallback;
    }
    return value as T;
  }

  stringMap(value: Raw, field: string): Record<string, string> {
    const obj = this.object(value, field);
    const out: Record<string, string> = {};
    if (!obj) return out;
    for (const [k, v] of Object.entries(obj)) {
      // Kubernetes stores label values as strings; YAML turns `true` into a boolean, which kubectl rejects.
      if (typeof v !== 'string') this.fail(`${field}.${k}`, `must be a string (quote it in YAML), got ${describe(v)}`);
      else out[k] = v;
    }
    return out;
  }
}

export function describe(value: Raw): string {
  if (value === null) return 'null';
  // A field left out: `typeof` would say "undefined undefined".
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}
