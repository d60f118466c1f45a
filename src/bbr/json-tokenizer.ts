/** The JSON token being read across bytes and chunks (a string, a number or a literal), checked byte by byte. */
import type { GatewayError } from '../errors.js';
import { notJson } from './json-limits.js';

// What is being read.
export const T_NONE = 0;
export const T_STRING = 1;
export const T_NUMBER = 2;
export const T_LITERAL = 3;

// Number grammar (RFC 8259): -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
const N_SIGN = 0;
const N_ZERO = 1;
const N_INT = 2;
const N_DOT = 3;
const N_FRAC = 4;
const N_E = 5;
const N_E_SIGN = 6;
const N_EXP = 7;

const ESCAPABLE = new Uint8Array(128);
for (const c of '"\\/bfnrt') ESCAPABLE[c.charCodeAt(0)] = 1;

/**
 * One token at a time: `start*` at its first byte, then the scan for its `kind` over the bytes that follow, as
 * they arrive, until it says where the token ended. Offsets are in the whole body (`base` is the buffer's first
 * byte's). Structure between tokens (brackets, commas, colons, whitespace) is the caller's to read.
 *
 * Each scan reads `buf[from, to)` as the token's next bytes and returns -1 when the token goes on past `to`,
 * else the index just past its last byte (where structure resumes: a number ends at the byte that is not part
 * of it); the token then ended at `base` plus that index, and `kind` is T_NONE again. The caller picks the scan
 * by `kind` itself: one call a token and chunk, not two, on the path every token of a large body takes.
 */
export class JsonTokenizer {
  #kind = T_NONE;
  #start = 0;
  /** In a string: 0, or 1 after a backslash, or 2-5 while reading the 4 hex digits of \u. */
  #esc = 0;
  #escStart = 0;
  /**
   * Whether the string held a backslash since it started or since the caller last set this (a long string
   * decoded a window at a time sets it per window): text without one decodes without JSON.parse.
   */
  escapes = false;
  #num = N_SIGN;
  #literal = '';
  #literalAt = 0;

  /** T_NONE between tokens, else the kind of the one being read. */
  get kind(): number {
    return this.#kind;
  }

  /** Offset of the token's first byte (a string's opening quote). */
  get start(): number {
    return this.#start;
  }

  /** Whether the string being read is inside an escape, which starts at `escapeStart`. */
  get inEscape(): boolean {
    return this.#esc !== 0;
  }

  get escapeStart(): number {
    return this.#escStart;
  }

  /** The opening quote at `at`. */
  startString(at: number): void {
    this.#kind = T_STRING;
    this.#start = at;
    this.#esc = 0;
    this.escapes = false;
  }

  /**
   * A number or literal starting with byte `c` at `at`; throws when `c` starts neither.
   * @returns whether it is a number (else a literal).
   */
  startScalar(c: number, at: number): boolean {
    this.#start = at;
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      this.#kind = T_NUMBER;
      this.#num = c === 0x2d ? N_SIGN : c === 0x30 ? N_ZERO : N_INT;
      return true;
    }
    const literal = c === 0x74 ? 'true' : c === 0x66 ? 'false' : c === 0x6e ? 'null' : undefined;
    if (literal === undefined) throw unexpected(c, at, 'a JSON value');
    this.#kind = T_LITERAL;
    this.#literal = literal;
    this.#literalAt = 1;
    return false;
  }

  /** The body ended: a number being read ends there; any other token is cut short. */
  endOfBody(): void {
    const kind = this.#kind;
    if (kind === T_NUMBER) {
      const s = this.#num;
      if (s !== N_ZERO && s !== N_INT && s !== N_FRAC && s !== N_EXP) throw notJson(`incomplete number at byte ${this.#start}`);
      this.#kind = T_NONE;
    } else if (kind !== T_NONE) throw notJson(`the body ends inside a ${kind === T_STRING ? 'string' : 'literal'}`);
  }

  /** A string, after its opening quote: escapes checked, control characters refused. */
  scanString(buf: Buffer, base: number, from: number, to: number): number {
    let i = from;
    while (i < to) {
      const esc = this.#esc;
      if (esc === 0) {
        let c = 0;
        for (; i < to; i++) {
          c = buf[i]!;
          if (c === 0x22 || c === 0x5c || c < 0x20) break;
        }
        if (i === to) return -1;
        if (c === 0x22) {
          this.#kind = T_NONE;
          return i + 1;
        }
        if (c === 0x5c) {
          this.#esc = 1;
          this.escapes = true;
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
    return -1;
  }

  /** A number, by RFC 8259's grammar. */
  scanNumber(buf: Buffer, base: number, from: number, to: number): number {
    let s = this.#num;
    for (let i = from; i < to; i++) {
      const c = buf[i]!;
      const digit = c >= 0x30 && c <= 0x39;
      const e = c === 0x65 || c === 0x45;
      if (s === N_INT || s === N_FRAC || s === N_EXP) {
        if (digit) continue;
        if (s !== N_EXP && e) s = N_E;
        else if (s === N_INT && c === 0x2e) s = N_DOT;
        else return this.#numberEndsAt(i);
      } else if (s === N_ZERO) {
        if (c === 0x2e) s = N_DOT;
        else if (e) s = N_E;
        else return this.#numberEndsAt(i);
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
    return -1;
  }

  /** The byte at `i` is not part of the number, which ends complete (every state that gets here is a whole number). */
  #numberEndsAt(i: number): number {
    this.#kind = T_NONE;
    return i;
  }

  /** `true`, `false` or `null`. */
  scanLiteral(buf: Buffer, base: number, from: number, to: number): number {
    const word = this.#literal;
    let i = from;
    for (; i < to && this.#literalAt < word.length; i++, this.#literalAt++) {
      const c = buf[i]!;
      if (c !== word.charCodeAt(this.#literalAt)) throw unexpected(c, base + i, `'${word}'`);
    }
    if (this.#literalAt < word.length) return -1;
    this.#kind = T_NONE;
    return i;
  }
}

/** The 400 for byte `c` at `at` where the grammar wanted `expected`. */
export function unexpected(c: number, at: number, expected: string): GatewayError {
  const what = c > 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : byteName(c);
  return notJson(`unexpected ${what} at byte ${at}, expected ${expected}`);
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
