/** Parsers for numeric CLI flags that fail with a message naming the flag, and the exit codes that follow. */
import { InvalidArgumentError } from 'commander';
import { parseGoDuration } from '../go-duration.js';
import { durationTooLong, formatDuration, MAX_DURATION_MS, parseDurationMs } from '../upstream/duration.js';

/** Exit code for a bad flag, as for any usage error. */
export const USAGE_EXIT_CODE = 2;

/** A Go duration (`30s`, `1m`) or whole milliseconds, from `min` to `max` ms (at most MAX_DURATION_MS, a timer's limit). */
export function durationFlag(min: number, max = MAX_DURATION_MS): (value: string) => number {
  return (value) => {
    const ms = parseDurationMs(value);
    if (ms === undefined || ms < min) throw new InvalidArgumentError(`must be a duration such as "500ms", "30s" or "2m" (or whole milliseconds), at least ${formatDuration(min)}, got "${value}"`);
    if (ms > Math.min(max, MAX_DURATION_MS)) throw new InvalidArgumentError(max >= MAX_DURATION_MS ? durationTooLong(value) : `must be at most ${formatDuration(max)}, got "${value}"`);
    return ms;
  };
}

/** For commander's option parser: an integer in [min, max], else commander reports the flag. */
export function intFlag(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    // Number('') is 0: `--admin-port "$PORT"` with PORT unset took a random free port instead of failing.
    const n = value.trim() === '' ? NaN : Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

/**
 * For commander: an address to listen on. An empty one (`--admin-host "$HOST"` with HOST unset) is refused: Node
 * binds '' to every interface, which put the dashboard, /metrics and pprof on the network.
 */
export function hostFlag(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must be an IP address or host name of this machine (0.0.0.0 or :: for every interface), got ""');
  return value;
}

// A DNS-1123 label, as the API server checks namespace names.
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * For commander: `--namespace`. An empty one (`--namespace "$NS"` with NS unset) made the paths
 * `.../namespaces//pods`, which the API server reads as every namespace: admin credentials watched the whole
 * cluster, a namespaced Role got 403 "at the cluster scope". A name no namespace can have (`LLM_D`) listed nothing,
 * with no error.
 */
export function namespaceFlag(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must name a namespace, got ""; leave it out for the default (the pod\'s own, else the context\'s), or give --all-namespaces');
  if (!NAMESPACE_NAME.test(value)) throw new InvalidArgumentError(`must be a namespace name (lowercase letters, digits and '-', at most 63 characters, as kubectl get namespaces lists them), got "${value}"`);
  return value;
}

/** For commander: a comma-separated list flag that may also be repeated; empty items are dropped. */
export function listFlag(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter((s) => s !== '')];
}

/** A number flag in [min, max] (an integer when asked); the error names the flag and the accepted range. */
export function numberFlag(flag: string, value: string, min: number, max: number, integer: boolean): number {
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new Error(`${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

/**
 * A length of time in seconds (`bench --duration 90`) that may also be written as a Go duration (`5m`, `1m30s`), as
 * every other timing flag takes one; `--duration 5m` was refused with a message that named no unit.
 */
export function secondsFlag(flag: string, value: string, min: number, max: number): number {
  const t = value.trim();
  const ms = /^\d+(\.\d+)?$/.test(t) ? Number(t) * 1000 : parseGoDuration(t);
  if (ms === undefined || ms < min * 1000 || ms > max * 1000) {
    throw new Error(`${flag} must be seconds (90, 0.5) or a duration (5m, 1m30s), from ${formatDuration(min * 1000)} to ${formatDuration(max * 1000)}, got "${value}"`);
  }
  return ms / 1000;
}

/**
 * A commander action that turns the flags into options with `parse` (a throw is a usage error: its message,
 * exit 2), then runs them (a throw prints its message and exits 1).
 */
export function parseThenRun<F, O>(parse: (flags: F) => O, run: (options: O) => Promise<void>): (flags: F) => Promise<void> {
  return async (flags) => {
    let options: O;
    try {
      options = parse(flags);
    } catch (e) {
      console.error(`error: ${(e as Error).message}`);
      process.exit(USAGE_EXIT_CODE);
    }
    try {
      await run(options);
    } catch (e) {
      console.error(`error: ${(e as Error).message}`);
      process.exit(1);
    }
  };
}
