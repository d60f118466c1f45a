/** Reads the key an ApiKeySource names: a file's text, a Secret's value, the environment's; trimmed and checked. */
import { readFile } from 'node:fs/promises';
import type { ApiKeySource } from './api-key-source.js';

/**
 * A Secret's `data`, decoded, by namespace and name (src/config/kube/read-secret.ts reads it from the API
 * server). Rejects with a message that says what to fix (not found, forbidden by RBAC).
 */
export type SecretReader = (namespace: string, name: string) => Promise<Readonly<Record<string, string>>>;

/** Larger files are no key: a path naming the wrong file must not be sent to every pod. */
const MAX_KEY_BYTES = 4096;

/**
 * The key, or a rejection whose message says what is wrong, never the key: it is the one place keys are read.
 * Surrounding whitespace is dropped (a file written by `echo` ends in a newline); a key with control
 * characters or inner whitespace cannot be sent in a header and is refused.
 */
export async function readApiKey(source: ApiKeySource, readSecret: SecretReader | undefined): Promise<string> {
  let text: string;
  if (source.kind === 'value') text = source.value;
  else if (source.kind === 'file') {
    let buf: Buffer;
    try {
      buf = await readFile(source.path);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new Error(`cannot read ${source.path}: ${err.code ?? err.name}${err.code === 'ENOENT' ? ' (no such file: is the Secret mounted there?)' : ''}`, { cause: e });
    }
    if (buf.length > MAX_KEY_BYTES) throw new Error(`${source.path} holds ${buf.length} bytes, more than an API key (at most ${MAX_KEY_BYTES}); is it the right file?`);
    text = buf.toString('utf8');
  } else {
    if (!readSecret) throw new Error(`Secret ${source.namespace}/${source.name} cannot be read: Secrets are read from the Kubernetes API (serve --kube); with -f, mount the Secret as a file and name it with infergate.io/upstream-api-key-file`);
    const data = await readSecret(source.namespace, source.name);
    const keys = Object.keys(data);
    const key = source.key ?? (keys.length === 1 ? keys[0] : undefined);
    if (key === undefined) {
      throw new Error(`Secret ${source.namespace}/${source.name} has ${keys.length === 0 ? 'no data' : `${keys.length} keys (${keys.sort().join(', ')})`}; name one as ${source.name}/KEY`);
    }
    const value = data[key];
    if (value === undefined) throw new Error(`Secret ${source.namespace}/${source.name} has no key ${key}; it has ${keys.length > 0 ? keys.sort().join(', ') : 'no data'}`);
    text = value;
  }
  const key = text.trim();
  if (key === '') throw new Error(`${where(source)} is empty`);
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(key)) throw new Error(`${where(source)} holds whitespace or control characters inside the key, which cannot be sent in an Authorization header`);
  return key;
}

function where(s: ApiKeySource): string {
  if (s.kind === 'file') return `the key file ${s.path}`;
  if (s.kind === 'secret') return `the key in Secret ${s.namespace}/${s.name}`;
  return s.origin;
}
