/** Go's `time.ParseDuration`, as Kubernetes and llm-d write durations in their objects and parameters. */

/**
 * The longest duration infergate takes anywhere (flags, annotations, llm-d's config durations): 596h, the last whole
 * hour under Node.js's timer limit of 2^31 - 1 ms (24.8 days). A timer set past that limit fires after 1 ms with
 * nothing but a TimeoutOverflowWarning, so `--upstream-timeout 600h` ("never, really") cut every request at once,
 * and a flow-control `defaultRequestTTL: 1000h` would expire every queued request at once.
 */
export const MAX_DURATION_MS = 596 * 3_600_000;

const DURATION_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's `time.ParseDuration` syntax (what metav1.Duration accepts): `200ms`, `1.5s`, `1m30s`. Milliseconds, or undefined. */
export function parseGoDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return text === '0' ? 0 : undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * (DURATION_UNITS_MS[m[2] ?? ''] ?? 0);
  return ms;
}
