/** The value of a JSON body built as its values end: JSON.parse for runs that fit a window, frames for containers that outgrow one. */
import type { ChunkList } from './chunk-list.js';

/** Byte offsets in the body: `start` inclusive, `end` exclusive. */
export interface ByteSpan {
  start: number;
  end: number;
}

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
 * Told where each value starts and ends (by src/bbr/json-body-parser.ts, which has checked the bytes), it
 * keeps one frame per open array or object. A value no larger than a window joins its parent's run of complete
 * siblings, which JSON.parse reads later in one call; a container that grows past a window while open is
 * built here, its runs added to it as they reach a window. Also finds the top-level `model` member's value.
 */
export class JsonValueBuilder {
  readonly #chunks: ChunkList;
  readonly #window: number;
  readonly #frames: Frame[] = [];
  #root: unknown;
  #modelMember = false;
  #modelSpan: ByteSpan | undefined;

  constructor(chunks: ChunkList, window: number) {
    this.#chunks = chunks;
    this.#window = window;
  }

  /** How many arrays and objects are open. */
  get depth(): number {
    return this.#frames.length;
  }

  /** Whether the innermost open container is an array (one must be open). */
  get inArray(): boolean {
    return this.#frames[this.#frames.length - 1]!.array;
  }

  /** The top-level value, once it ended. */
  get root(): unknown {
    return this.#root;
  }

  /** Where the value of the last top-level `model` member sits. */
  get modelSpan(): ByteSpan | undefined {
    return this.#modelSpan;
  }

  /** An array or object opens at `at`. */
  open(array: boolean, at: number): void {
    this.#frames.push({ array, start: at, value: undefined, runStart: at + 1, runEnd: at + 1, afterComma: at + 1, keyStart: -1, keyEnd: -1, key: undefined });
  }

  /** A comma at `at` in the innermost container. */
  comma(at: number): void {
    const f = this.#frames[this.#frames.length - 1]!;
    // Between runs the comma belongs to no run: the next one starts after it.
    f.afterComma = at + 1;
    if (f.runStart === f.runEnd) f.runStart = f.runEnd = at + 1;
  }

  /** The innermost container closes at `at`. */
  close(at: number): void {
    const f = this.#frames.pop()!;
    if (f.value === undefined) return this.ended(f.start, at + 1);
    this.#flush(f);
    this.ended(f.start, at + 1, { value: f.value, attached: true });
  }

  /** A key of the innermost object, quotes included, from `start` to `end`; `key` when it was decoded already (a long key). */
  keyEnded(start: number, end: number, key: string | undefined): void {
    const f = this.#frames[this.#frames.length - 1]!;
    f.keyStart = start;
    f.keyEnd = end;
    f.key = key;
    if (this.#frames.length === 1) this.#modelMember = key !== undefined ? key === 'model' : this.#isModelKey(start, end);
  }

  /**
   * A value ended at `end`. Left to JSON.parse, it joins its parent's run; `built` holds it when it was built
   * instead (an array or object larger than a window, already attached to its parent, or a long string).
   */
  ended(start: number, end: number, built?: { value: unknown; attached: boolean }): void {
    const frames = this.#frames;
    const parent = frames[frames.length - 1];
    if (!parent) {
      this.#root = built ? built.value : this.#parse(start, end);
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
      this.#modelSpan = { start, end };
      this.#modelMember = false;
    }
  }

  /** Every window (the body read up to `pos`): build the containers that outgrew one, add long runs to them. */
  step(pos: number): void {
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
  }

  /** Drops the open containers (after an error, or once the value is complete). */
  release(): void {
    this.#frames.length = 0;
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

  /** Whether the key text (quotes included) spells `model`, escapes and all. */
  #isModelKey(start: number, end: number): boolean {
    const n = end - start;
    // Each of m, o, d, e, l takes at most 6 bytes escaped (\u006d).
    if (n < 7 || n > 32) return false;
    const text = this.#chunks.slice(start, end).toString('latin1');
    return text === '"model"' || JSON.parse(text) === 'model';
  }
}

/** JSON.parse defines `__proto__` as an own property; plain assignment would set the prototype instead. */
function setMember(o: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
  else o[key] = value;
}
