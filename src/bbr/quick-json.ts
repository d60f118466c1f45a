/**
 * The quick way through a small JSON body: one pass for nesting depth, then V8's JSON.parse. Most requests are
 * a few KiB, and for them the incremental parser's bookkeeping (windows, frames, value counts, the model's byte
 * span) costs several times the parse itself. The quick way gives the same value or nothing; nothing sends the
 * caller to the incremental parser, which gives the same value again or the exact error.
 */
import type { JsonLimits } from './json-limits.js';
import { bomLength } from './utf8-bom.js';

/**
 * Bodies up to this size may take the quick way. Below it no string can reach the parser's cut (1 MiB), the
 * value count cannot reach any sane `--max-json-values`, and a failed attempt costs microseconds.
 */
export const QUICK_JSON_MAX_BYTES = 16 * 1024;

/** The parsed value: a JsonBody (src/bbr/json-body-parser.ts) with no cut strings and no model span. */
export interface QuickJsonBody {
  value: unknown;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * `body` parsed at once when that is sure to give what the incremental parser gives: small enough (see
 * QUICK_JSON_MAX_BYTES, and no more bytes than `limits.maxValues`), nested no deeper than `limits.maxDepth`,
 * and valid JSON. Otherwise undefined (not JSON, too deep, too large, empty): parse it incrementally.
 * The result has no `modelSpan`; `modelSpanOf` finds it when a rewrite needs it.
 */
export function quickJson(body: Buffer, limits: JsonLimits): QuickJsonBody | undefined {
  const n = body.length;
  if (n === 0 || n > QUICK_JSON_MAX_BYTES || n > limits.maxValues) return undefined;
  let depth = 0;
  const max = limits.maxDepth;
  for (let i = 0; i < n; i++) {
    const c = body[i]!;
    if (c === QUOTE) {
      // Skip the string; a backslash escapes the byte after it.
      for (i++; i < n; i++) {
        const s = body[i]!;
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return undefined;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  try {
    // A byte order mark opening the body is not JSON.parse's to read (it is no JSON whitespace): skipped, as vLLM does.
    return { value: JSON.parse(body.toString('utf8', bomLength(body))) as unknown };
  } catch {
    return undefined;
  }
}
