/** Reads a timeout as flags and pool annotations write it: a Go duration (`30s`, `1m30s`), or a bare integer of milliseconds. */
import { MAX_DURATION_MS, parseGoDuration } from '../go-duration.js';

/** The longest duration a flag or an annotation may give (src/go-duration.ts says why). */
export { MAX_DURATION_MS };

/** The error for `text`, a duration past MAX_DURATION_MS, as a flag's or an annotation's message ends. */
export function durationTooLong(text: string): string {
  return `must be at most ${formatDuration(MAX_DURATION_MS)} (Node.js keeps no timer past 24.8 days), got ${JSON.stringify(text)}`;
}

/**
 * Milliseconds, or undefined when `text` is neither a Go duration (what `metav1.Duration`, llm-d's parameters
 * and Istio accept: `500ms`, `30s`, `10m`, `1m30s`) nor a bare integer, read as milliseconds so that
 * `--connect-timeout 2000` keeps its meaning. Fractions of a millisecond round up: a timeout never shrinks to 0.
 */
export function parseDurationMs(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const ms = parseGoDuration(t);
  return ms === undefined ? undefined : Math.ceil(ms);
}

/** How a duration reads back in messages and `/readyz`: the largest unit that keeps it whole (`30s`, `1m30s`, `250ms`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 1000 !== 0) return ms >= 1000 ? `${(ms / 1000).toFixed(1)}s` : `${ms}ms`;
  const s = ms / 1000;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${rest > 0 || (h === 0 && m === 0) ? `${rest}s` : ''}`;
}
