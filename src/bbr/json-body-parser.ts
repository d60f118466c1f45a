/** A JSON parser fed a request body chunk by chunk: limits checked as bytes arrive, JSON.parse's value built in bounded steps. */
import { GatewayError } from '../errors.js';
import { QUICK_JSON_MAX_BYTES, quickJson } from './quick-json.js';
import { ChunkList } from './chunk-list.js';
import { notJson, tooDeep, tooManyValues, type JsonLimits } from './json-limits.js';

/**
 * Why windows: V8's JSON.parse is fast but runs in one go, and on a 16 MiB body of small objects or distinct
 * keys it blocks for a second. Here a value no larger than a window is left to JSON.parse, a run of
 * complete siblings at a time (a few windows of text per call at most); only an array or object that grows
 * past a window while still open is built here, one frame per level on an explicit stack; a string that
 * grows past a window is decoded a window at a time. A body under a window is one JSON.parse at its end.
 */
export const DEFAULT_WINDOW_BYTES = 32 * 1024;

/**
 * Strings longer than this are cut to it in the parsed value. The value is what routing reads (the model,
 * `stream`, a prompt prefix for prefix-cache scoring, which reads at most this much); the body sent upstream is
 * the client's bytes, whole. Cutting spares decoding (and holding) a second copy of a 16 MiB prompt.
 */
export const DEFAULT_MAX_STRING_CHARS = 1024 * 1024;

export interface JsonBodyParserOptions {
  /** Bytes per window (see above); small in tests to exercise every path. */
  windowBytes?: number;
  /** Strings longer than this many UTF-16 units are cut to it (default DEFAULT_MAX_STRING_CHARS). */
  maxStringChars?: number;
}

/** Byte offsets in the body: `start` inclusive, `end` exclusive. */
export interface ByteSpan {
  start: number;
  end: number;
}

export interface JsonBody {
  /** JSON.parse's value for the body, except that strings longer than the parser's maxStringChars are cut to it. */
  value: unknown;
  /** How many strings were cut. */
  cutStrings?: number;
  /** Where the value of the top-level `model` sits in the body (the last one, which JSON.parse keeps), so it can be replaced in place. */
  modelSpan?: ByteSpan;
}

// What the next structural byte may be.
const S_VALUE = 0;
const S_VALUE_OR_CLOSE = 1; // after '['
const S_KEY = 2; // after ',' in an object
const S_KEY_OR_CLOSE = 3; // after '{'
const S_COLON = 4;
const S_COMMA_OR_CLOSE = 5;
const S_END = 6; // the top-level value is complete: only whitespace may follow

// The token being read across bytes (and chunks).
const T_NONE = 0;
const T_STRING = 1;
const T_NUMBER = 2;
const T_LITERAL = 3;

// Number grammar (RFC 8259): -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
const N_SIGN = 0;
const N_ZERO = 1;
const N_INT = 2;
const N_DOT = 3;
const N_FRAC = 4;
const N_E = 5;
const N_E_SIGN = 6;
const N_EXP = 7;

// Estimated heap bytes per value, by kind (see heapEstimate); string text is added at its length.
const HEAP_CONTAINER = 64;
const HEAP_STRING = 24;
/** An object key costs a string and a property slot, and a hidden class or a dictionary entry when keys vary. */
const HEAP_KEY = 128;
const HEAP_NUMBER = 16;
const HEAP_LITERAL = 8;

const ESCAPABLE = new Uint8Array(128);
for (const c of '"\\/bfnrt') ESCAPABLE[c.charCodeAt(0)] = 1;

/** An open array or object. */
interface Frame {
  readonly array: boolean;
  /** Offset of its opening bracket. */
  readonly start: number;
  /** Built once it is larger than a window while open; until then its text is parsed whole. */
  value: unknown[] | Record<string, unknown> | undefined;
  /** Complete children not yet added to `value`: the text from `runStart` to `runEnd`. */
  runStart: number;
  runEnd: number;
  /** Just past the last comma read: a run added to `value` before the next child starts after it. */
  afterComma: number;
  /** Objects: the current member's key text, quotes included. */
  keyStart: number;
  keyEnd: number;
  /** The current member's key, once decoded (a key longer than a window, or a member built here). */
  key: string | undefined;
}

/**
 * Write the body's chunks in order, then call `end`. Each call is bounded work: a few windows of native
 * parsing plus one pass over the chunk's bytes. After an error every call throws that error. The scanner and
 * the builder share every state (the frames, the runs, the token being read), so they are one class, and
 * this file is longer than most.
 */
export class JsonBodyParser {
  readonly #limits: JsonLimits;
  readonly #window: number;
  readonly #chunks = new ChunkList();
  #state = S_VALUE;
  readonly #frames: Frame[] = [];
  #values = 0;
  #root: unknown;
  #error: GatewayError | undefined;
  #tok = T_NONE;
  #tokStart = 0;
  #isKey = false;
  /** In a string: 0, or 1 after a backslash, or 2-5 while reading the 4 hex digits of \u. */
  #esc = 0;
  #escStart = 0;
  #num = N_SIGN;
  #literal = '';
  #literalAt = 0;
  /** A string longer than a window: the pieces decoded so far, their length, and where the next one starts. */
  #big: { pieces: string[]; chars: number; from: number } | undefined;
  readonly #maxStringChars: number;
  #cutStrings = 0;
  /** Whether the long string's current window holds an escape (else it decodes without JSON.parse). */
  #windowEscapes = false;
  #modelMember = false;
  #modelStart = 0;
  #modelSpan: ByteSpan | undefined;
  #heap = 0;

  constructor(limits: JsonLimits, options: JsonBodyParserOptions = {}) {
    this.#limits = limits;
    this.#window = options.windowBytes ?? DEFAULT_WINDOW_BYTES;
    this.#maxStringChars = options.maxStringChars ?? DEFAULT_MAX_STRING_CHARS;
  }

  /** Bytes written so far. */
  get size(): number {
    return this.#chunks.size;
  }

  /**
   * An estimate, in bytes, of the memory the parsed value takes (besides the body itself): a fixed cost per
   * value by kind (V8's object, array, string and number headers, rounded up) plus the text of its strings.
   */
  get heapEstimate(): number {
    return this.#heap;
  }

  /** Reads the next bytes of the body; throws the 400 (GatewayError invalid_json) once it is known to be bad. */
  write(chunk: Buffer): void {
    if (this.#error) throw this.#error;
    if (chunk.length === 0) return;
    const base = this.#chunks.size;
    this.#chunks.append(chunk);
    this.#guard(() => {
      // A chunk can be the whole body (ext_proc BUFFERED): take it a window at a time.
      for (let off = 0; off < chunk.length; off += this.#window) {
        const to = Math.min(chunk.length, off + this.#window);
        this.#scan(chunk, base, off, to);
        this.#step(base + to);
      }
    });
  }

  /** The body is complete: its value, or undefined when it was empty (no bytes at all). */
  end(): JsonBody | undefined {
    if (this.#error) throw this.#error;
    const size = this.#chunks.size;
    if (size === 0) return undefined;
    this.#guard(() => {
      if (this.#tok === T_NUMBER) this.#numberEnded(size);
      else if (this.#tok !== T_NONE) throw notJson(`the body ends inside a ${this.#tok === T_STRING ? 'string' : 'literal'}`);
      if (this.#state !== S_END) {
        throw notJson(this.#frames.length > 0 ? `the body ends at byte ${size} with ${this.#frames.length} array(s) or object(s) still open` : 'the body holds no JSON value');
      }
    });
    // The caller holds the body (joined into one buffer): the chunks must not stay alive as a second copy.
    this.#release();
    return { value: this.#root, ...(this.#modelSpan ? { modelSpan: this.#modelSpan } : {}), ...(this.#cutStrings > 0 ? { cutStrings: this.#cutStrings } : {}) };
  }

  #guard(run: () => void): void {
    try {
      run();
    } catch (e) {
      // JSON.parse only ever sees text the scanner accepted, so its errors would be bugs; still a 400, not a 500.
      this.#error = e instanceof GatewayError ? e : notJson((e as Error).message);
      this.#release();
      throw this.#error;
    }
  }

  #release(): void {
    this.#chunks.clear();
    this.#frames.length = 0;
    this.#big = undefined;
  }

  #scan(buf: Buffer, base: number, from: number, to: number): void {
    let i = from;
    while (i < to) {
      const tok = this.#tok;
      if (tok === T_STRING) i = this.#scanString(buf, base, i, to);
      else if (tok === T_NUMBER) i = this.#scanNumber(buf, base, i, to);
      else if (tok === T_LITERAL) i = this.#scanLiteral(buf, base, i, to);
      else {
        const c = buf[i]!;
        if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) this.#structural(c, base + i);
        i++;
      }
    }
  }

  #structural(c: number, at: number): void {
    const state = this.#state;
    if (state === S_VALUE || state === S_VALUE_OR_CLOSE) {
      if (c === 0x5d && state === S_VALUE_OR_CLOSE) return this.#close(at);
      return this.#startValue(c, at);
    }
    if (state === S_KEY || state === S_KEY_OR_CLOSE) {
      if (c === 0x7d && state === S_KEY_OR_CLOSE) return this.#close(at);
      if (c !== 0x22) throw unexpected(c, at, 'a key in double quotes');
      this.#count(at);
      this.#heap += HEAP_KEY - HEAP_STRING;
      return this.#startString(at, true);
    }
    if (state === S_COLON) {
      if (c !== 0x3a) throw unexpected(c, at, "':'");
      this.#state = S_VALUE;
      return;
    }
    if (state === S_COMMA_OR_CLOSE) {
      const f = this.#frames[this.#frames.length - 1]!;
      if (c === 0x2c) {
        // Between runs the comma belongs to no run: the next one starts after it.
        f.afterComma = at + 1;
        if (f.runStart === f.runEnd) f.runStart = f.runEnd = at + 1;
        this.#state = f.array ? S_VALUE : S_KEY;
        return;
      }
      if (c === (f.array ? 0x5d : 0x7d)) return this.#close(at);
      throw unexpected(c, at, f.array ? "',' or ']'" : "',' or '}'");
    }
    throw unexpected(c, at, 'nothing after the JSON value');
  }

  #startValue(c: number, at: number): void {
    if (this.#modelMember && this.#frames.length === 1) this.#modelStart = at;
    this.#count(at);
    if (c === 0x7b || c === 0x5b) {
      if (this.#frames.length >= this.#limits.maxDepth) throw tooDeep(this.#limits, at);
      this.#heap += HEAP_CONTAINER;
      const array = c === 0x5b;
      this.#frames.push({ array, start: at, value: undefined, runStart: at + 1, runEnd: at + 1, afterComma: at + 1, keyStart: -1, keyEnd: -1, key: undefined });
      this.#state = array ? S_VALUE_OR_CLOSE : S_KEY_OR_CLOSE;
      return;
    }
    if (c === 0x22) return this.#startString(at, false);
    this.#tokStart = at;
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      this.#heap += HEAP_NUMBER;
      this.#tok = T_NUMBER;
      this.#num = c === 0x2d ? N_SIGN : c === 0x30 ? N_ZERO : N_INT;
      return;
    }
    const literal = c === 0x74 ? 'true' : c === 0x66 ? 'false' : c === 0x6e ? 'null' : undefined;
    if (literal === undefined) throw unexpected(c, at, 'a JSON value');
    this.#heap += HEAP_LITERAL;
    this.#tok = T_LITERAL;
    this.#literal = literal;
    this.#literalAt = 1;
  }

  #count(at: number): void {
    if (++this.#values > this.#limits.maxValues) throw tooManyValues(this.#limits, at);
  }

  #startString(at: number, isKey: boolean): void {
    this.#heap += HEAP_STRING;
    this.#windowEscapes = false;
    this.#tok = T_STRING;
    this.#tokStart = at;
    this.#isKey = isKey;
    this.#esc = 0;
    if (isKey) this.#frames[this.#frames.length - 1]!.key = undefined;
  }

  #scanString(buf: Buffer, base: number, from: number, to: number): number {
    let i = from;
    while (i < to) {
      const esc = this.#esc;
      if (esc === 0) {
        let c = 0;
        for (; i < to; i++) {
          c = buf[i]!;
          if (c === 0x22 || c === 0x5c || c < 0x20) break;
        }
        if (i === to) return i;
        if (c === 0x22) {
          this.#stringEnded(base + i + 1);
          return i + 1;
        }
        if (c === 0x5c) {
          this.#esc = 1;
          this.#windowEscapes = true;
          this.#escStart = base + i;
          i++;
          continue;
        }
        throw notJson(`control character ${byteName(c)} inside a string at byte ${base + i}; escape it (e.g. \\n)`);
      }
      const c = buf[i]!;
      if (esc === 1) {
        if (c === 0x75) this.#esc = 2;
        else if (c < 128 && ESCAPABLE[c] === 1) this.#esc = 0;
        else throw notJson(`invalid escape \\${printable(c)} at byte ${base + i - 1}`);
      } else {
        if (!isHex(c)) throw notJson(`invalid \\u escape at byte ${this.#escStart}: ${printable(c)} is not a hex digit`);
        this.#esc = esc === 5 ? 0 : esc + 1;
      }
      i++;
    }
    return i;
  }

  #stringEnded(end: number): void {
    this.#tok = T_NONE;
    let value: string | undefined;
    const big = this.#big;
    if (big) {
      const whole = big.chars < this.#maxStringChars;
      if (whole) big.pieces.push(this.#decodeString(big.from, end - 1));
      value = big.pieces.join('');
      if (!whole || value.length > this.#maxStringChars) {
        value = value.slice(0, this.#maxStringChars);
        this.#cutStrings++;
      }
      this.#heap += value.length;
      this.#big = undefined;
    } else this.#heap += end - this.#tokStart;
    if (!this.#isKey) return this.#ended(this.#tokStart, end, value === undefined ? undefined : { value, attached: false });
    const f = this.#frames[this.#frames.length - 1]!;
    f.keyStart = this.#tokStart;
    f.keyEnd = end;
    f.key = value;
    if (this.#frames.length === 1) this.#modelMember = value !== undefined ? value === 'model' : this.#isModelKey(f.keyStart, end);
    this.#state = S_COLON;
  }

  #scanNumber(buf: Buffer, base: number, from: number, to: number): number {
    let s = this.#num;
    for (let i = from; i < to; i++) {
      const c = buf[i]!;
      const digit = c >= 0x30 && c <= 0x39;
      const e = c === 0x65 || c === 0x45;
      if (s === N_INT || s === N_FRAC || s === N_EXP) {
        if (digit) continue;
        if (s !== N_EXP && e) s = N_E;
        else if (s === N_INT && c === 0x2e) s = N_DOT;
        else return this.#numberEndsAt(s, base + i, i);
      } else if (s === N_ZERO) {
        if (c === 0x2e) s = N_DOT;
        else if (e) s = N_E;
        else return this.#numberEndsAt(s, base + i, i);
      } else if (s === N_SIGN) {
        if (!digit) throw unexpected(c, base + i, 'a digit after -');
        s = c === 0x30 ? N_ZERO : N_INT;
      } else if (s === N_DOT) {
        if (!digit) throw unexpected(c, base + i, 'a digit after the decimal point');
        s = N_FRAC;
      } else if (s === N_E) {
        if (c === 0x2b || c === 0x2d) s = N_E_SIGN;
        else if (digit) s = N_EXP;
        else throw unexpected(c, base + i, 'the exponent');
      } else {
        if (!digit) throw unexpected(c, base + i, 'a digit of the exponent');
        s = N_EXP;
      }
    }
    this.#num = s;
    return to;
  }

  /** The byte at `at` is not part of the number: it ends there, and the byte is read again as structure. */
  #numberEndsAt(s: number, at: number, i: number): number {
    this.#num = s;
    this.#numberEnded(at);
    return i;
  }

  #numberEnded(end: number): void {
    const s = this.#num;
    if (s !== N_ZERO && s !== N_INT && s !== N_FRAC && s !== N_EXP) throw notJson(`incomplete number at byte ${this.#tokStart}`);
    this.#tok = T_NONE;
    this.#ended(this.#tokStart, end);
  }

  #scanLiteral(buf: Buffer, base: number, from: number, to: number): number {
    const word = this.#literal;
    let i = from;
    for (; i < to && this.#literalAt < word.length; i++, this.#literalAt++) {
      const c = buf[i]!;
      if (c !== word.charCodeAt(this.#literalAt)) throw unexpected(c, base + i, `'${word}'`);
    }
    if (this.#literalAt === word.length) {
      this.#tok = T_NONE;
      this.#ended(this.#tokStart, base + i);
    }
    return i;
  }

  #close(at: number): void {
    const f = this.#frames.pop()!;
    if (f.value === undefined) return this.#ended(f.start, at + 1);
    this.#flush(f);
    this.#ended(f.start, at + 1, { value: f.value, attached: true });
  }

  /**
   * A value ended at `end`. Left to JSON.parse, it joins its parent's run; `built` holds it when it was built
   * here instead (an array or object larger than a window, already attached to its parent, or a long string).
   */
  #ended(start: number, end: number, built?: { value: unknown; attached: boolean }): void {
    const frames = this.#frames;
    const parent = frames[frames.length - 1];
    if (!parent) {
      this.#root = built ? built.value : this.#parse(start, end);
      this.#state = S_END;
      return;
    }
    // A member whose key was decoded here (a long key) is added on its own, with that key.
    if (!built && !parent.array && parent.key !== undefined) built = { value: this.#parse(start, end), attached: false };
    if (!built) parent.runEnd = end;
    else {
      if (!built.attached) {
        this.#flush(parent);
        this.#attach(parent, built.value);
      }
      parent.runStart = parent.runEnd = end;
    }
    if (this.#modelMember && frames.length === 1) {
      this.#modelSpan = { start: this.#modelStart, end };
      this.#modelMember = false;
    }
    this.#state = S_COMMA_OR_CLOSE;
  }

  /** Every window: build the containers that outgrew one, add long runs to them, decode a long string's next piece. */
  #step(pos: number): void {
    const frames = this.#frames;
    for (let d = 0; d < frames.length; d++) {
      const f = frames[d]!;
      if (f.value === undefined) {
        // Deeper frames opened later, so they are smaller still.
        if (pos - f.start <= this.#window) break;
        f.value = f.array ? [] : {};
        const parent = frames[d - 1];
        if (parent) {
          this.#flush(parent);
          this.#attach(parent, f.value);
        }
      }
      if (f.runEnd - f.runStart >= this.#window) this.#flush(f);
    }
    // Every open container is larger than a string that is, so all of them are built by now.
    if (this.#tok === T_STRING && pos - this.#tokStart > this.#window) {
      const big = (this.#big ??= { pieces: [], chars: 0, from: this.#tokStart + 1 });
      const cut = this.#utf8Boundary(big.from, this.#esc !== 0 ? this.#escStart : pos);
      // Past the cut, the rest of the string is only scanned.
      if (cut > big.from && big.chars < this.#maxStringChars) {
        const piece = this.#decodeString(big.from, cut);
        big.pieces.push(piece);
        big.chars += piece.length;
        big.from = cut;
        this.#windowEscapes = this.#esc !== 0;
      }
    }
  }

  /** Adds the run of complete children to a built container, through JSON.parse. */
  #flush(f: Frame): void {
    if (f.runEnd <= f.runStart) return;
    const text = this.#chunks.slice(f.runStart, f.runEnd).toString('utf8');
    f.runStart = f.runEnd = Math.max(f.runEnd, f.afterComma);
    if (f.array) {
      const out = f.value as unknown[];
      for (const v of JSON.parse(`[${text}]`) as unknown[]) out.push(v);
      return;
    }
    const members = JSON.parse(`{${text}}`) as Record<string, unknown>;
    const out = f.value as Record<string, unknown>;
    for (const k of Object.keys(members)) setMember(out, k, members[k]);
  }

  #attach(f: Frame, value: unknown): void {
    if (f.array) (f.value as unknown[]).push(value);
    else {
      f.key ??= JSON.parse(this.#chunks.slice(f.keyStart, f.keyEnd).toString('utf8')) as string;
      setMember(f.value as Record<string, unknown>, f.key, value);
    }
  }

  #parse(start: number, end: number): unknown {
    return JSON.parse(this.#chunks.slice(start, end).toString('utf8'));
  }

  /** The string content from `start` to `end` (no quotes), decoded as JSON.parse would. */
  #decodeString(start: number, end: number): string {
    const text = this.#chunks.slice(start, end).toString('utf8');
    return this.#windowEscapes ? (JSON.parse(`"${text}"`) as string) : text;
  }

  /**
   * `cut`, or earlier so that no UTF-8 sequence is split: decoding the two sides apart then gives what decoding
   * them together does, replacement characters for bad bytes included.
   */
  #utf8Boundary(from: number, cut: number): number {
    for (let k = 1; k <= 3 && cut - k >= from; k++) {
      const b = this.#chunks.byteAt(cut - k);
      if ((b & 0xc0) === 0x80) continue;
      if (b >= 0xc0 && k < (b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2)) return cut - k;
      break;
    }
    return cut;
  }

  /** Whether the key text (quotes included) spells `model`, escapes and all. */
  #isModelKey(start: number, end: number): boolean {
    const n = end - start;
    // Each of m, o, d, e, l takes at most 6 bytes escaped (\u006d).
    if (n < 7 || n > 32) return false;
    const text = this.#chunks.slice(start, end).toString('latin1');
    return text === '"model"' || JSON.parse(text) === 'model';
  }

}

/** Parses a whole body at once, with the same limits and result as the incremental path. */
export function parseJsonBody(body: Buffer, limits: JsonLimits, options: JsonBodyParserOptions = {}): JsonBody | undefined {
  // A small body the quick way (same value; no model span, found later if a rewrite needs it), unless the
  // options ask for the incremental parser's own behaviour (tests' small windows, a lower string cut).
  if (options.windowBytes === undefined && (options.maxStringChars ?? DEFAULT_MAX_STRING_CHARS) >= QUICK_JSON_MAX_BYTES) {
    const quick = quickJson(body, limits);
    if (quick) return quick;
  }
  const p = new JsonBodyParser(limits, options);
  p.write(body);
  return p.end();
}

/** JSON.parse defines `__proto__` as an own property; plain assignment would set the prototype instead. */
function setMember(o: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
  else o[key] = value;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function printable(c: number): string {
  return c > 0x20 && c < 0x7f ? String.fromCharCode(c) : byteName(c);
}

function byteName(c: number): string {
  return `byte 0x${c.toString(16).padStart(2, '0')}`;
}

function unexpected(c: number, at: number, expected: string): GatewayError {
  const what = c > 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : byteName(c);
  return notJson(`unexpected ${what} at byte ${at}, expected ${expected}`);
}
