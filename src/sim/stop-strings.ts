/** vLLM's `stop` strings applied to a reply: the output ends at the first one to appear, which is left out of the text. */

/** A reply cut at a stop string. `stoppedBy` is the string that ended it (vLLM's `stop_reason`), null if none did. */
export interface StoppedReply {
  readonly tokens: readonly string[];
  readonly stoppedBy: string | null;
}

/**
 * Cuts `tokens` where the first of `stop` completes, as vLLM's detokenizer does: the token that completes it is still
 * generated (it counts in `usage`), but its text ends before the stop string (after it with `includeStop`). Only the
 * first `maxTokens` tokens are searched: a stop string past them is never generated.
 */
export function applyStopStrings(tokens: readonly string[], stop: readonly string[], maxTokens: number | null, includeStop = false): StoppedReply {
  if (stop.length === 0) return { tokens, stoppedBy: null };
  const reachable = maxTokens === null ? tokens : tokens.slice(0, maxTokens);
  const text = reachable.join('');
  let best: { start: number; end: number; stop: string } | null = null;
  for (const s of stop) {
    const start = text.indexOf(s);
    if (start < 0) continue;
    const end = start + s.length;
    if (best === null || end < best.end) best = { start, end, stop: s };
  }
  if (best === null) return { tokens, stoppedBy: null };
  const cutAt = includeStop ? best.end : best.start;
  const out: string[] = [];
  let offset = 0;
  // Bounded by the reply's length: stops at the token holding the stop string's last character.
  for (const token of reachable) {
    const tokenEnd = offset + token.length;
    out.push(token.slice(0, Math.max(0, cutAt - offset)));
    if (tokenEnd >= best.end) break;
    offset = tokenEnd;
  }
  return { tokens: out, stoppedBy: best.stop };
}
