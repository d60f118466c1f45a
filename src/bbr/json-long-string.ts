/** A JSON string longer than a window, decoded a window at a time as its bytes arrive, and cut at a length. */
import type { ChunkList } from './chunk-list.js';

/**
 * Decoding in pieces spares holding the whole text twice; past `maxChars` the rest is only scanned (by the
 * tokenizer), never decoded. Pieces are cut where no UTF-8 sequence or escape is split, so that joined they
 * are what JSON.parse gives for the whole string.
 */
export class LongString {
  readonly #chunks: ChunkList;
  readonly #maxChars: number;
  readonly #pieces: string[] = [];
  #chars = 0;
  /** Where the next piece starts. */
  #from: number;
  #cut = false;

  /** `from`: the string's first byte after its opening quote. */
  constructor(chunks: ChunkList, from: number, maxChars: number) {
    this.#chunks = chunks;
    this.#from = from;
    this.#maxChars = maxChars;
  }

  /** Whether the value `end` returned was cut to `maxChars`. */
  get cut(): boolean {
    return this.#cut;
  }

  /**
   * Decodes the text up to `to` (at most: back to a UTF-8 boundary) as the next piece; `escapes`: whether
   * that text may hold a backslash. Returns whether a piece was decoded.
   */
  take(to: number, escapes: boolean): boolean {
    const cut = utf8Boundary(this.#chunks, this.#from, to);
    if (cut <= this.#from || this.#chars >= this.#maxChars) return false;
    const piece = decode(this.#chunks, this.#from, cut, escapes);
    this.#pieces.push(piece);
    this.#chars += piece.length;
    this.#from = cut;
    return true;
  }

  /** The closing quote is at `quote`: the whole value, cut to `maxChars`. */
  end(quote: number, escapes: boolean): string {
    const whole = this.#chars < this.#maxChars;
    if (whole) this.#pieces.push(decode(this.#chunks, this.#from, quote, escapes));
    let value = this.#pieces.join('');
    if (!whole || value.length > this.#maxChars) {
      value = value.slice(0, this.#maxChars);
      this.#cut = true;
    }
    return value;
  }
}

/** The string content from `start` to `end` (no quotes), decoded as JSON.parse would. */
function decode(chunks: ChunkList, start: number, end: number, escapes: boolean): string {
  const text = chunks.slice(start, end).toString('utf8');
  return escapes ? (JSON.parse(`"${text}"`) as string) : text;
}

/**
 * `cut`, or earlier so that no UTF-8 sequence is split: decoding the two sides apart then gives what decoding
 * them together does, replacement characters for bad bytes included.
 */
function utf8Boundary(chunks: ChunkList, from: number, cut: number): number {
  for (let k = 1; k <= 3 && cut - k >= from; k++) {
    const b = chunks.byteAt(cut - k);
    if ((b & 0xc0) === 0x80) continue;
    if (b >= 0xc0 && k < (b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2)) return cut - k;
    break;
  }
  return cut;
}
