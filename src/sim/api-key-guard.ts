/**
 * vLLM's `--api-key` check (vllm/entrypoints/openai/server_utils.py AuthenticationMiddleware): every path that
 * starts with `/v1` needs `Authorization: Bearer <one of the keys>`; `/health`, `/metrics`, `/tokenize`,
 * `/pooling`, `/score`, `/rerank`... do not, and neither does any OPTIONS request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** vLLM answers a missing or wrong key with exactly this body and a 401 (not the usual error shape). */
export const UNAUTHORIZED_BODY = { error: 'Unauthorized' } as const;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Holds the accepted keys as digests, so comparisons take the same time whatever the key. */
export class ApiKeyGuard {
  readonly #digests: readonly Buffer[];

  /** No keys means no check, as vLLM without `--api-key` and `VLLM_API_KEY`. */
  constructor(keys: readonly string[]) {
    this.#digests = keys.filter((k) => k !== '').map(digest);
  }

  get enabled(): boolean {
    return this.#digests.length > 0;
  }

  /** Whether this request may proceed: true when no key is set, for OPTIONS, off `/v1`, or with a right key. */
  allows(req: IncomingMessage, path: string): boolean {
    if (!this.enabled || req.method === 'OPTIONS' || !path.startsWith('/v1')) return true;
    const header = req.headers.authorization ?? '';
    const space = header.indexOf(' ');
    // Like vLLM: the scheme is case-insensitive, the token is everything after the first space.
    if (space < 0 || header.slice(0, space).toLowerCase() !== 'bearer') return false;
    const given = digest(header.slice(space + 1));
    let match = false;
    for (const d of this.#digests) match = timingSafeEqual(given, d) || match;
    return match;
  }
}
