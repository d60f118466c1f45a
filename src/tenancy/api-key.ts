/** API keys as the gateway keeps them: random keys made once, and their SHA-256 hashes, never the keys themselves. */
import { createHash, randomBytes } from 'node:crypto';

/** The prefix of every stored hash, so the algorithm is named where the hash is written. */
export const KEY_HASH_PREFIX = 'sha256:';

/** A new key: `ig-` and 32 random bytes in base64url (256 bits), shown once by `infergate keys create`. */
export function generateApiKey(): string {
  return `ig-${randomBytes(32).toString('base64url')}`;
}

/** `sha256:<hex>` of a key, as the keys file stores it. */
export function hashApiKey(key: string): string {
  return KEY_HASH_PREFIX + createHash('sha256').update(key).digest('hex');
}

/**
 * A keys file's `keyHash` as the gateway compares it (`sha256:` and 64 lower-case hex digits): hex digits in either
 * case are taken, since tools that print SHA-256 differ; undefined for anything else.
 */
export function normalKeyHash(s: string): string | undefined {
  return /^sha256:[0-9a-f]{64}$/i.test(s) ? s.toLowerCase() : undefined;
}

/**
 * The key a client sent: `Authorization: Bearer <key>` (the openai SDKs, and vLLM's --api-key), else
 * `api-key: <key>` (Azure-style clients), else `x-api-key: <key>` (the Anthropic SDKs, on /v1/messages and
 * /v1/models). Undefined when none carries one.
 */
export function presentedKey(authorization: string | undefined, apiKey: string | string[] | undefined, xApiKey?: string | string[]): string | undefined {
  if (authorization !== undefined && authorization.length > 7 && authorization.slice(0, 7).toLowerCase() === 'bearer ') {
    const k = authorization.slice(7).trim();
    if (k !== '') return k;
  }
  return headerKey(apiKey) ?? headerKey(xApiKey);
}

function headerKey(value: string | string[] | undefined): string | undefined {
  const a = Array.isArray(value) ? value[0] : value;
  return a !== undefined && a.trim() !== '' ? a.trim() : undefined;
}
