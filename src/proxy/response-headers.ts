/** The upstream's response headers as the client gets them: hop-by-hop ones dropped, in one flat list for writeHead. */
import { connectionTokens, isHopByHop } from './hop-by-hop.js';

export interface PassedHeaders {
  /** `[name, value, name, value, ...]` with lower-case names, as `res.writeHead` takes it (duplicates kept, e.g. Set-Cookie). */
  readonly list: string[];
  /** The answer's `Content-Type`, if any. */
  readonly contentType: string | undefined;
}

/**
 * Reads undici's raw `[name, value, ...]` header list once. Values are decoded as latin1, the way Node writes
 * them back, so bytes outside ASCII pass through unchanged.
 */
export function passResponseHeaders(raw: readonly Buffer[]): PassedHeaders {
  const list: string[] = [];
  let connection: string | undefined;
  let contentType: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    if (name === 'connection') connection = connection === undefined ? value : `${connection}, ${value}`;
    else if (name === 'content-type') contentType ??= value;
    list.push(name, value);
  }
  const tokens = connectionTokens(connection);
  let kept = 0;
  for (let i = 0; i < list.length; i += 2) {
    if (isHopByHop(list[i]!, tokens)) continue;
    list[kept++] = list[i]!;
    list[kept++] = list[i + 1]!;
  }
  list.length = kept;
  return { list, contentType };
}
