/** vLLM's spelling of a token count (`--max-model-len 32k`), read the same from `sim`'s flags and a demo Pod's args. */

/** Digits, optionally with k (1000), K (1024), m (10^6) or M (2^20): vLLM's `human_readable_int`; throws naming `flag`. */
export function tokenCountFlag(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(v.trim());
  const scale = { '': 1, k: 1000, K: 1024, m: 1_000_000, M: 1024 * 1024 }[m?.[2] ?? ''] ?? 1;
  const n = m ? Math.round(Number(m[1]) * scale) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 100_000_000) throw new Error(`${flag} must be a token count such as 2048 or 32k, got "${v}"`);
  return n;
}
