/** Reads a request body's JSON as it arrives: small bodies kept and parsed at once, larger ones incrementally. */
import { JsonBodyParser, type JsonBody } from './json-body-parser.js';
import type { JsonLimits } from './json-limits.js';
import { QUICK_JSON_MAX_BYTES, quickJson } from './quick-json.js';

/**
 * The chunks of a body are only kept until they pass QUICK_JSON_MAX_BYTES; from then on the incremental
 * parser reads them (the kept ones first), so a body over a JSON limit is still refused as it arrives, a few
 * KiB later at most. A body that ended small is parsed the quick way (src/bbr/quick-json.ts), with the
 * incremental parser behind it for what that cannot take (and for the exact error).
 */
export class JsonBodyReader {
  readonly #limits: JsonLimits;
  #kept: Buffer[] | undefined = [];
  #size = 0;
  #parser: JsonBodyParser | undefined;

  constructor(limits: JsonLimits) {
    this.#limits = limits;
  }

  /** An estimate, in bytes, of the memory the parsed value takes (see JsonBodyParser.heapEstimate). */
  get heapEstimate(): number {
    // A small body's value takes a few times its text at most; it is parsed only at the end.
    return this.#parser ? this.#parser.heapEstimate : this.#size * 4;
  }

  /** Reads the next bytes; throws the 400 (GatewayError invalid_json) once they are known to be bad. */
  write(chunk: Buffer): void {
    if (this.#parser) return this.#parser.write(chunk);
    this.#kept!.push(chunk);
    this.#size += chunk.length;
    if (this.#size <= QUICK_JSON_MAX_BYTES) return;
    const parser = new JsonBodyParser(this.#limits);
    this.#parser = parser;
    const kept = this.#kept!;
    this.#kept = undefined;
    for (const c of kept) parser.write(c);
  }

  /** The body ended: its JSON, or undefined for an empty body; throws the 400 for a bad one. */
  end(): JsonBody | undefined {
    if (this.#parser) return this.#parser.end();
    const kept = this.#kept!;
    const body = kept.length === 1 ? kept[0]! : Buffer.concat(kept, this.#size);
    const quick = quickJson(body, this.#limits);
    if (quick) return quick;
    const parser = new JsonBodyParser(this.#limits);
    parser.write(body);
    return parser.end();
  }
}
