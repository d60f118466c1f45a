/** Where a top-level member's value sits in the bytes of a JSON object, found without parsing the body again. */
import type { ByteSpan } from '../bbr/json-value-builder.js';
import { bomLength } from '../bbr/utf8-bom.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * The span of the value of the top-level member `name` of `body`, a JSON object the gateway already parsed (so
 * valid JSON): the last one when the name repeats, as JSON.parse keeps. Undefined when absent or the bytes are
 * not what was expected. Strings are skipped with `indexOf`, so a long prompt costs a few native scans, not a
 * byte-by-byte walk.
 */
export function topLevelMemberSpan(body: Buffer, name: string): ByteSpan | undefined {
  const wanted = Buffer.from(JSON.stringify(name));
  // After a byte order mark opening the body, which the parse skipped too.
  let i = skipSpace(body, bomLength(body));
  if (body[i] !== OPEN_OBJECT) return undefined;
  i = skipSpace(body, i + 1);
  let found: ByteSpan | undefined;
  while (i < body.length && body[i] !== CLOSE_OBJECT) {
    if (body[i] !== QUOTE) return undefined;
    const keyStart = i;
    i = skipString(body, i);
    if (i < 0) return undefined;
    const same = i - keyStart === wanted.length ? body.compare(wanted, 0, wanted.length, keyStart, i) === 0 : hasEscape(body, keyStart, i) && decodesTo(body, keyStart, i, name);
    i = skipSpace(body, i);
    if (body[i] !== COLON) return undefined;
    const start = skipSpace(body, i + 1);
    const end = skipValue(body, start);
    if (end < 0) return undefined;
    if (same) found = { start, end };
    i = skipSpace(body, end);
    if (body[i] === COMMA) i = skipSpace(body, i + 1);
  }
  return found;
}

function skipSpace(b: Buffer, i: number): number {
  while (i < b.length) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** `i` at an opening quote: the index after the closing one, or -1. */
function skipString(b: Buffer, i: number): number {
  let from = i + 1;
  while (true) {
    const q = b.indexOf(QUOTE, from);
    if (q < 0) return -1;
    // Escaped when an odd number of backslashes precede it.
    let k = q - 1;
    while (b[k] === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** `i` at a value's first byte: the index after its last one, or -1. */
function skipValue(b: Buffer, i: number): number {
  const c = b[i];
  if (c === QUOTE) return skipString(b, i);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    let depth = 0;
    while (i < b.length) {
      const x = b[i]!;
      if (x === QUOTE) {
        i = skipString(b, i);
        if (i < 0) return -1;
        continue;
      }
      if (x === OPEN_OBJECT || x === OPEN_ARRAY) depth++;
      else if ((x === CLOSE_OBJECT || x === CLOSE_ARRAY) && --depth === 0) return i + 1;
      i++;
    }
    return -1;
  }
  // A number or a literal: up to the next delimiter.
  while (i < b.length) {
    const x = b[i];
    if (x === COMMA || x === CLOSE_OBJECT || x === CLOSE_ARRAY || x === 0x20 || x === 0x0a || x === 0x0d || x === 0x09) break;
    i++;
  }
  return i;
}

function hasEscape(b: Buffer, start: number, end: number): boolean {
  const at = b.indexOf(BACKSLASH, start);
  return at >= 0 && at < end;
}

/** A key written with escapes (`"stream\u005foptions"`) is still that key. */
function decodesTo(b: Buffer, start: number, end: number, name: string): boolean {
  try {
    return JSON.parse(b.toString('utf8', start, end)) === name;
  } catch {
    return false;
  }
}
