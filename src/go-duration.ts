/** Go's `time.ParseDuration`, as Kubernetes and llm-d write durations in their objects and parameters. */

const DURATION_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's `time.ParseDuration` syntax (what metav1.Duration accepts): `200ms`, `1.5s`, `1m30s`. Milliseconds, or undefined. */
export function parseGoDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return text === '0' ? 0 : undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * (DURATION_UNITS_MS[m[2] ?? ''] ?? 0);
  return ms;
}
