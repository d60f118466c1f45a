/**
 * The simulator's deterministic tokenizer: a token is 4 UTF-16 code units of text (by default; `--chars-per-token`
 * 1-4), so token counts equal what `usage` reports and token i covers exactly the characters that KV block hashing
 * puts in it.
 */
import { CHARS_PER_TOKEN } from './token-estimate.js';

/** Bijective base-128 numbering of ASCII pieces: ids 1 ..< ASCII_LIMIT, decoded from the id alone. */
const ASCII_RADIX = 128;
/** 128 x (128^3 + 128^2 + 128 + 1) + 1: one past the id of the last 4-character ASCII piece (the longest piece). */
const ASCII_LIMIT = 270_549_121;
/** Pieces with any non-ASCII code unit hash into [2^31, 2^32), like byte-level BPE ids, not decodable alone. */
const HASHED_BASE = 2 ** 31;
/** How many hashed pieces one tokenizer remembers for `decode`; the oldest are forgotten first. */
const DEFAULT_MEMORY = 100_000;
/** The longest piece whose ASCII id fits below 2^31 (128^5 would not). */
export const MAX_CHARS_PER_TOKEN = 4;

/** FNV-1a over UTF-16 code units. */
function hashPiece(piece: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < piece.length; i++) h = Math.imul(h ^ piece.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function isAscii(piece: string): boolean {
  for (let i = 0; i < piece.length; i++) if (piece.charCodeAt(i) >= ASCII_RADIX) return false;
  return true;
}

/**
 * Text <-> token ids, the same for every simulator (and process) given the same text.
 *
 * Contract, with c = `charsPerToken` (4 unless constructed otherwise):
 * - `encode(text).length === count(text)` = ceil(UTF-16 length / c): the numbers `usage.prompt_tokens`,
 *   `/tokenize` and the engine's KV blocks agree on (with c = 4, `estimateTokens`).
 * - Token i is `text.slice(c*i, c*i + c)`; equal prefixes give equal leading ids (what prefix caches key on).
 * - Real tokenizers average about 4 characters a token on English prose and fewer on code, JSON or other
 *   languages; a smaller c models those, where a gateway that estimates tokens as characters / 4 (approximate
 *   prefix scoring) misjudges how much of a prompt a pod's blocks hold.
 * - Ids are unsigned 32-bit integers, never 0. A piece of ASCII characters maps to an id below 270,549,121 that
 *   `decode` inverts without any state; any other piece hashes into [2^31, 2^32) and decodes only on a tokenizer
 *   that encoded it recently (the last 100,000 such pieces), and two such pieces may collide.
 * - No special tokens (BOS/EOS) are added, so counts match `usage` exactly.
 */
export class Tokenizer {
  readonly #learned = new Map<number, string>();
  readonly #memory: number;
  /** Characters (UTF-16 code units) per token, 1 to 4. */
  readonly charsPerToken: number;

  constructor(memory = DEFAULT_MEMORY, charsPerToken = CHARS_PER_TOKEN) {
    if (!Number.isInteger(charsPerToken) || charsPerToken < 1 || charsPerToken > MAX_CHARS_PER_TOKEN) {
      throw new RangeError(`characters per token must be a whole number from 1 to ${MAX_CHARS_PER_TOKEN}, got ${charsPerToken}`);
    }
    this.#memory = memory;
    this.charsPerToken = charsPerToken;
  }

  /** How many tokens `text` is: the same number `usage` reports for it. */
  count(text: string): number {
    return Math.ceil(text.length / this.charsPerToken);
  }

  /** The pieces `text` splits into (each id's text). */
  pieces(text: string): string[] {
    const c = this.charsPerToken;
    const out = new Array<string>(this.count(text));
    for (let i = 0; i < out.length; i++) out[i] = text.slice(i * c, (i + 1) * c);
    return out;
  }

  encode(text: string): number[] {
    const c = this.charsPerToken;
    const n = this.count(text);
    const out = new Array<number>(n);
    // The engine tokenizes every prompt: ASCII pieces are numbered straight from the char codes, without a slice.
    for (let t = 0; t < n; t++) {
      const start = t * c;
      const end = Math.min(text.length, start + c);
      let id = 0;
      for (let i = start; i < end && id >= 0; i++) {
        const c = text.charCodeAt(i);
        id = c < ASCII_RADIX ? id * ASCII_RADIX + c + 1 : -1;
      }
      out[t] = id >= 0 ? id : this.#id(text.slice(start, end));
    }
    return out;
  }

  /** The text of `ids`; throws RangeError naming the first id it cannot turn back into text. */
  decode(ids: readonly number[]): string {
    let text = '';
    for (const id of ids) text += this.#piece(id);
    return text;
  }

  #id(piece: string): number {
    if (isAscii(piece)) {
      let n = 0;
      for (let i = 0; i < piece.length; i++) n = n * ASCII_RADIX + piece.charCodeAt(i) + 1;
      return n;
    }
    const id = HASHED_BASE + (hashPiece(piece) >>> 1);
    // Re-inserting moves the piece to the young end, so pieces in use are the last to be forgotten.
    this.#learned.delete(id);
    this.#learned.set(id, piece);
    if (this.#learned.size > this.#memory) this.#learned.delete(this.#learned.keys().next().value!);
    return id;
  }

  #piece(id: number): string {
    if (Number.isInteger(id) && id > 0 && id < ASCII_LIMIT) {
      const codes: number[] = [];
      // Bijective base 128: digits are 1..128, each one more than its character code.
      for (let n = id; n > 0; n = Math.floor((n - 1) / ASCII_RADIX)) codes.push(((n - 1) % ASCII_RADIX));
      if (codes.length <= MAX_CHARS_PER_TOKEN) return String.fromCharCode(...codes.reverse());
    }
    const learned = this.#learned.get(id);
    if (learned !== undefined) return learned;
    throw new RangeError(
      `token id ${id} is not in the simulator's vocabulary: ids are integers from 1 to ${ASCII_LIMIT - 1} ` +
        `(ASCII text) or ids this simulator returned for non-ASCII text`,
    );
  }
}
