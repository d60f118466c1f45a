/** A JSON parser fed a request body chunk by chunk: limits checked as bytes arrive, JSON.parse's value built in bounded steps. */
import { GatewayError } from '../errors.js';
import { QUICK_JSON_MAX_BYTES, quickJson } from './quick-json.js';
import { UTF8_BOM } from './utf8-bom.js';
import { ChunkList } from './chunk-list.js';
import { notJson, tooDeep, tooManyValues, type JsonLimits } from './json-limits.js';
import { LongString } from './json-long-string.js';
import { JsonTokenizer, T_NONE, T_NUMBER, T_STRING, unexpected } from './json-tokenizer.js';
import { JsonValueBuilder, type ByteSpan } from './json-value-builder.js';

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

// Estimated heap bytes per value, by kind (see heapEstimate); string text is added at its length.
const HEAP_CONTAINER = 64;
const HEAP_STRING = 24;
/** An object key costs a string and a property slot, and a hidden class or a dictionary entry when keys vary. */
const HEAP_KEY = 128;
const HEAP_NUMBER = 16;
const HEAP_LITERAL = 8;

/**
 * Write the body's chunks in order, then call `end`. Each call is bounded work: a few windows of native
 * parsing plus one pass over the chunk's bytes. After an error every call throws that error. This class reads
 * the structure between tokens (what may come next) and holds the limits; the tokens' bytes are read by
 * src/bbr/json-tokenizer.ts, the value is built by src/bbr/json-value-builder.ts, and strings longer than a
 * window are decoded by src/bbr/json-long-string.ts.
 */
export class JsonBodyParser {
  readonly #limits: JsonLimits;
  readonly #window: number;
  readonly #chunks = new ChunkList();
  readonly #tokens = new JsonTokenizer();
  readonly #builder: JsonValueBuilder;
  #state = S_VALUE;
  #values = 0;
  #error: GatewayError | undefined;
  /** Whether the string being read is an object key. */
  #isKey = false;
  /** The string being read, once it is longer than a window. */
  #long: LongString | undefined;
  readonly #maxStringChars: number;
  #cutStrings = 0;
  #heap = 0;
  /** Bytes of a UTF-8 byte order mark read at the body's start. */
  #bom = 0;

  constructor(limits: JsonLimits, options: JsonBodyParserOptions = {}) {
    this.#limits = limits;
    this.#window = options.windowBytes ?? DEFAULT_WINDOW_BYTES;
    this.#maxStringChars = options.maxStringChars ?? DEFAULT_MAX_STRING_CHARS;
    this.#builder = new JsonValueBuilder(this.#chunks, this.#window);
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
      const tokens = this.#tokens;
      if (tokens.kind !== T_NONE) {
        tokens.endOfBody();
        this.#ended(tokens.start, size);
      }
      if (this.#state !== S_END) {
        const open = this.#builder.depth;
        throw notJson(open > 0 ? `the body ends at byte ${size} with ${open} array(s) or object(s) still open` : 'the body holds no JSON value');
      }
    });
    // The caller holds the body (joined into one buffer): the chunks must not stay alive as a second copy.
    this.#release();
    const modelSpan = this.#builder.modelSpan;
    return { value: this.#builder.root, ...(modelSpan ? { modelSpan } : {}), ...(this.#cutStrings > 0 ? { cutStrings: this.#cutStrings } : {}) };
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
    this.#builder.release();
    this.#long = undefined;
  }

  #scan(buf: Buffer, base: number, from: number, to: number): void {
    const tokens = this.#tokens;
    let i = from;
    while (i < to) {
      const tok = tokens.kind;
      if (tok !== T_NONE) {
        const next = tok === T_STRING ? tokens.scanString(buf, base, i, to) : tok === T_NUMBER ? tokens.scanNumber(buf, base, i, to) : tokens.scanLiteral(buf, base, i, to);
        if (next < 0) return;
        i = next;
        if (tok === T_STRING) this.#stringEnded(base + i);
        else this.#ended(tokens.start, base + i);
      } else {
        const c = buf[i]!;
        if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && !(base + i < 3 && this.#bomByte(c, base + i))) this.#structural(c, base + i);
        i++;
      }
    }
  }

  /** Whether byte `at` (one of the first three) belongs to a byte order mark opening the body: skipped, as vLLM does. */
  #bomByte(c: number, at: number): boolean {
    // Only a mark begun at byte 0 goes on; a byte that breaks one is not JSON either.
    if (at !== this.#bom) return false;
    if (c !== UTF8_BOM[at]) {
      if (at === 0) return false;
      throw unexpected(c, at, 'the rest of the UTF-8 byte order mark (EF BB BF)');
    }
    this.#bom++;
    return true;
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
      const array = this.#builder.inArray;
      if (c === 0x2c) {
        this.#builder.comma(at);
        this.#state = array ? S_VALUE : S_KEY;
        return;
      }
      if (c === (array ? 0x5d : 0x7d)) return this.#close(at);
      throw unexpected(c, at, array ? "',' or ']'" : "',' or '}'");
    }
    throw unexpected(c, at, 'nothing after the JSON value');
  }

  #startValue(c: number, at: number): void {
    this.#count(at);
    if (c === 0x7b || c === 0x5b) {
      if (this.#builder.depth >= this.#limits.maxDepth) throw tooDeep(this.#limits, at);
      this.#heap += HEAP_CONTAINER;
      const array = c === 0x5b;
      this.#builder.open(array, at);
      this.#state = array ? S_VALUE_OR_CLOSE : S_KEY_OR_CLOSE;
      return;
    }
    if (c === 0x22) return this.#startString(at, false);
    this.#heap += this.#tokens.startScalar(c, at) ? HEAP_NUMBER : HEAP_LITERAL;
  }

  #count(at: number): void {
    if (++this.#values > this.#limits.maxValues) throw tooManyValues(this.#limits, at);
  }

  #startString(at: number, isKey: boolean): void {
    this.#heap += HEAP_STRING;
    this.#tokens.startString(at);
    this.#isKey = isKey;
  }

  #stringEnded(end: number): void {
    const start = this.#tokens.start;
    let value: string | undefined;
    const long = this.#long;
    if (long) {
      value = long.end(end - 1, this.#tokens.escapes);
      if (long.cut) this.#cutStrings++;
      this.#heap += value.length;
      this.#long = undefined;
    } else this.#heap += end - start;
    if (this.#isKey) {
      this.#builder.keyEnded(start, end, value);
      this.#state = S_COLON;
    } else this.#ended(start, end, value === undefined ? undefined : { value, attached: false });
  }

  #close(at: number): void {
    this.#builder.close(at);
    this.#state = this.#builder.depth === 0 ? S_END : S_COMMA_OR_CLOSE;
  }

  /** A value ended at `end` (see JsonValueBuilder.ended). */
  #ended(start: number, end: number, built?: { value: unknown; attached: boolean }): void {
    this.#builder.ended(start, end, built);
    this.#state = this.#builder.depth === 0 ? S_END : S_COMMA_OR_CLOSE;
  }

  /** Every window: the builder's containers, and a long string's next piece. */
  #step(pos: number): void {
    this.#builder.step(pos);
    // Every open container is larger than a string that is, so all of them are built by now.
    const tokens = this.#tokens;
    if (tokens.kind === T_STRING && pos - tokens.start > this.#window) {
      const long = (this.#long ??= new LongString(this.#chunks, tokens.start + 1, this.#maxStringChars));
      // Past the cut, the rest of the string is only scanned; an escape is not split.
      if (long.take(tokens.inEscape ? tokens.escapeStart : pos, tokens.escapes)) tokens.escapes = tokens.inEscape;
    }
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
