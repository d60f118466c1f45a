/** The UTF-8 byte order mark a JSON body may open with (Windows tools write one), as vLLM takes it. */

/**
 * EF BB BF. RFC 8259 §8.1 lets a parser ignore it; vLLM does, since FastAPI hands the body's bytes to Python's
 * `json.loads`, which decodes bytes that open with it as `utf-8-sig`. It is no JSON whitespace anywhere else.
 */
export const UTF8_BOM: readonly number[] = [0xef, 0xbb, 0xbf];

/** 3 when `body` opens with the byte order mark, else 0: where its JSON text starts. */
export function bomLength(body: Buffer): number {
  return body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
}
