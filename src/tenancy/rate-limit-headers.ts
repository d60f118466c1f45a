/**
 * OpenAI's rate-limit response headers (`x-ratelimit-limit-requests`, `-remaining-requests`, `-reset-requests`
 * and the `-tokens` twins), for the per-minute limits a key has; a limit the key does not set is left out.
 */
import type { TenantLimits } from './key-entry.js';
import type { Usage } from './limit-store.js';
import type { Windows } from './windows.js';

/** As a flat `[name, value, ...]` list, the shape `res.writeHead` takes and forward's header list is. */
export function rateLimitHeaders(limits: TenantLimits, used: Usage | undefined, w: Windows): string[] {
  const out: string[] = [];
  const reset = formatReset(w.minuteResetMs);
  const rpm = limits.requestsPerMinute;
  if (rpm !== undefined) {
    out.push('x-ratelimit-limit-requests', String(rpm), 'x-ratelimit-remaining-requests', String(Math.max(0, rpm - (used?.requests ?? 0))), 'x-ratelimit-reset-requests', reset);
  }
  const tpm = limits.tokensPerMinute;
  if (tpm !== undefined) {
    out.push('x-ratelimit-limit-tokens', String(tpm), 'x-ratelimit-remaining-tokens', String(Math.max(0, tpm - (used?.tokens ?? 0))), 'x-ratelimit-reset-tokens', reset);
  }
  return out;
}

/** A duration as OpenAI writes its resets: `20ms`, `1s`, `6m0s`, `1h2m3s` (whole seconds from 1 s up, rounded up). */
export function formatReset(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const total = Math.ceil(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** The flat list as a record, for `sendError`'s extra headers. */
export function headerRecord(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]!] = list[i + 1]!;
  return out;
}
