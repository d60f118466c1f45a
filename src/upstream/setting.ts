/** One upstream setting, spelled once for its `serve` flag, its InferencePool annotation and its docs, and how its value is read. */
import { durationTooLong, formatDuration, MAX_DURATION_MS, parseDurationMs } from './duration.js';

/** Prefix of every annotation infergate reads on an InferencePool (as `infergate.io/endpoint-picker-config`). */
export const ANNOTATION_PREFIX = 'infergate.io/';

/**
 * A setting of type `duration` reads a Go duration or bare milliseconds; `count` a whole number; `percent` a
 * whole number up to 100, with or without a `%` (the help prints its default as `10%`). The same text is valid
 * as a flag and as an annotation.
 */
export interface SettingSpec<K extends string = string> {
  /** The field of the settings object it sets. */
  readonly key: K;
  /** The `serve` flag and the annotation (`infergate.io/<name>`) are both named after this. */
  readonly name: string;
  readonly kind: 'duration' | 'count' | 'percent';
  /** The smallest accepted value; 0 means "off" where it is allowed. */
  readonly min: number;
  readonly help: string;
}

export function flagOf(spec: SettingSpec): string {
  return `--${spec.name}`;
}

export function annotationOf(spec: SettingSpec): string {
  return `${ANNOTATION_PREFIX}${spec.name}`;
}

/** The value, or a message saying what is accepted (for a flag error or a ConfigIssue). */
export function parseSetting(spec: SettingSpec, text: string): { value: number } | { error: string } {
  const max = spec.kind === 'percent' ? 100 : spec.kind === 'duration' ? MAX_DURATION_MS : Number.MAX_SAFE_INTEGER;
  const whole = (spec.kind === 'percent' ? /^\s*(\d+)\s*%?\s*$/ : /^\s*(\d+)\s*$/).exec(text);
  const value = spec.kind === 'duration' ? parseDurationMs(text) : whole ? Number(whole[1]) : undefined;
  if (value !== undefined && value >= spec.min && value <= max) return { value };
  if (spec.kind === 'duration' && value !== undefined && value > MAX_DURATION_MS) return { error: durationTooLong(text) };
  return { error: `must be ${describeAccepted(spec)}, got ${JSON.stringify(text)}` };
}

/** How a value reads back (`30s`, `5`, `10%`). */
export function formatSetting(spec: SettingSpec, value: number): string {
  if (spec.kind === 'duration') return value === 0 && spec.min === 0 ? 'off' : formatDuration(value);
  return spec.kind === 'percent' ? `${value}%` : String(value);
}

function describeAccepted(spec: SettingSpec): string {
  if (spec.kind === 'duration') {
    const floor = spec.min === 0 ? '0 to turn it off' : `at least ${formatDuration(spec.min)}`;
    return `a duration such as "500ms", "30s" or "10m" (or whole milliseconds), ${floor}`;
  }
  if (spec.kind === 'percent') return `a whole percentage from ${spec.min} to 100 (such as 10 or 10%)`;
  return `a whole number, at least ${spec.min}${spec.min === 0 ? ' (0 turns it off)' : ''}`;
}
