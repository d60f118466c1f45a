/**
 * Parses the keys YAML (`--api-keys FILE`, or a Secret labelled `infergate.io/api-keys: "true"`): a `keys`
 * list of entries. Every problem is collected, so one edit reports them all; keys are never accepted in clear.
 */
import { parse } from 'yaml';
import { normalKeyHash } from './api-key.js';
import type { KeyEntry, TenantLimits } from './key-entry.js';
import { ModelAccess } from './model-access.js';
import { sharedLimitProblems } from './shared-limits.js';

/** Thrown with every problem of a keys document, one per line. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
}

const FIELDS = new Set(['name', 'keyHash', 'models', 'requestsPerMinute', 'tokensPerMinute', 'tokensPerDay', 'priority', 'objective', 'allowPriorityHeader', 'allowAdminPaths']);
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** The entries of one document; `where` names it in messages (a path, or `Secret ns/name key`). */
export function parseKeyFile(text: string, where: string): KeyEntry[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new KeyFileError(`${where}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return [];
  const list = (doc as { keys?: unknown }).keys;
  if (typeof doc !== 'object' || !Array.isArray(list)) throw new KeyFileError(`${where}: expected a mapping with a "keys" list (see docs/tenancy.md)`);
  const problems: string[] = [];
  const entries: KeyEntry[] = [];
  /** Each entry's index in `keys`, for messages about entries (a refused one leaves a gap). */
  const indexes: number[] = [];
  const hashes = new Set<string>();
  list.forEach((raw: unknown, i) => {
    const at = `${where}: keys[${i}]`;
    const before = problems.length;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${at}: expected a mapping`);
      return;
    }
    const o = raw as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!FIELDS.has(k)) problems.push(`${at}: unknown field "${k}" (fields: ${[...FIELDS].join(', ')})`);
    const name = o.name;
    if (typeof name !== 'string' || !NAME.test(name)) problems.push(`${at}: "name" must be the tenant's name (letters, digits, . _ -; at most 63)`);
    const keyHash = typeof o.keyHash === 'string' ? normalKeyHash(o.keyHash) : undefined;
    if (keyHash === undefined) {
      // A bare digest (sha256sum's output) is a hash all right: say what it lacks.
      const bare = typeof o.keyHash === 'string' && /^[0-9a-f]{64}$/i.test(o.keyHash) ? ' (this one lacks the "sha256:" prefix)' : '';
      problems.push(`${at}: "keyHash" must be sha256:<64 hex digits>, as \`infergate keys create\` prints; keys are never stored in clear${bare}`);
    } else if (hashes.has(keyHash)) problems.push(`${at}: the same keyHash appears twice`);
    else hashes.add(keyHash);
    const models = o.models;
    if (!Array.isArray(models) || models.length === 0 || !models.every((m) => typeof m === 'string' && m !== '')) {
      problems.push(`${at}: "models" must list model names or globs (["*"] for every model)`);
    }
    const limits: { -readonly [K in keyof TenantLimits]: number } = {};
    for (const f of ['requestsPerMinute', 'tokensPerMinute', 'tokensPerDay'] as const) {
      const v = o[f];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) problems.push(`${at}: "${f}" must be a positive integer (leave it out for no limit), ${got(v)}`);
      else limits[f] = v;
    }
    const priority = o.priority;
    if (priority !== undefined && (typeof priority !== 'number' || !Number.isSafeInteger(priority))) problems.push(`${at}: "priority" must be an integer, ${got(priority)}`);
    const objective = o.objective;
    if (objective !== undefined && (typeof objective !== 'string' || objective === '')) problems.push(`${at}: "objective" must name an InferenceObjective`);
    if (priority !== undefined && objective !== undefined) problems.push(`${at}: set "priority" or "objective", not both`);
    const allow = o.allowPriorityHeader;
    if (allow !== undefined && typeof allow !== 'boolean') problems.push(`${at}: "allowPriorityHeader" must be true or false`);
    const admin = o.allowAdminPaths;
    if (admin !== undefined && typeof admin !== 'boolean') problems.push(`${at}: "allowAdminPaths" must be true or false`);
    if (problems.length > before) return;
    indexes.push(i);
    entries.push({
      tenant: { name: name as string, priority: priority as number | undefined, objective: objective as string | undefined },
      keyHash: keyHash as string,
      models: new ModelAccess(models as string[]),
      limits,
      allowPriorityHeader: allow === true,
      allowAdminPaths: admin === true,
    });
  });
  problems.push(...sharedLimitProblems(entries, (i) => `${where}: keys[${indexes[i]}]`));
  if (problems.length > 0) throw new KeyFileError(problems.join('\n'));
  return entries;
}

/**
 * The value a number field was given, for its message; a number written in quotes (YAML's `"600"`, a string)
 * says so, since the message alone reads as if 600 were refused.
 */
function got(v: unknown): string {
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return `got the string ${JSON.stringify(v)}: write the number without quotes`;
  return `got ${v === null ? 'null' : (JSON.stringify(v) ?? String(v))}`;
}
