/** Reads a YAML file or a directory of them (multi-document) into typed resources, with located problems. */
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { formatIssue, formatPlace, type ConfigIssue, type ConfigWarning, type SourceLocation } from '../api/config-issue.js';
import { readResource, type Resource } from '../api/resource.js';
import { describe } from '../api/field-reader.js';

export interface LoadedFiles {
  files: string[];
  resources: Resource[];
  issues: ConfigIssue[];
  /** One line per unknown kind (not per document), so a directory of Deployments does not flood the log. */
  warnings: string[];
  /**
   * The same warnings, located (validate reports these): each unknown kind at its first document, and each
   * field a reader ignored (an unknown key under `spec`), which `warnings` holds too.
   */
  readWarnings: ConfigWarning[];
}

/** What loadConfigFiles read: the resources, and how many YAML documents each file held. */
export interface LoadedConfigFiles extends LoadedFiles {
  /**
   * File -> documents that were not empty (valid or not). 0 means the file is empty or holds only whitespace
   * and comments: what a writer that truncates before writing leaves for a moment.
   */
  documents: Map<string, number>;
}

/** `apiVersion/kind` of each kind infergate skipped -> where it was first seen, and what was likely meant. */
export type UnknownKinds = Map<string, { where: string; hint: string }>;

/** How a YAML syntax error's message starts (validate tells it from field problems by this). */
export const YAML_SYNTAX_ERROR = 'YAML syntax error';

const YAML_FILE = /\.ya?ml$/i;

/** The files a path names: itself, or the `.yaml`/`.yml` files directly in it, sorted for a stable order. */
export async function listConfigFiles(path: string): Promise<string[]> {
  const s = await stat(path);
  if (!s.isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => YAML_FILE.test(n) && !n.startsWith('.')).sort();
  return names.map((n) => join(path, n));
}

/**
 * A listed file's text. A symlink whose target is gone (a ConfigMap key's link into a `..data` that no longer
 * holds it, a link left after a move) is named as such: a bare ENOENT for a file that `ls` shows reads as a bug.
 */
export async function readConfigFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const target = await lstat(file).then((s) => (s.isSymbolicLink() ? readlink(file) : undefined), () => undefined);
    if (target === undefined) throw e;
    throw new DanglingSymlinkError(`cannot read ${file}: it is a symlink to ${target}, which does not exist; remove the link, or restore what it points to`);
  }
}

/** What readConfigFile throws for a symlink to nothing; its message names the file and what to do. */
export class DanglingSymlinkError extends Error {
  override readonly name = 'DanglingSymlinkError';
}

export async function loadConfigFiles(path: string): Promise<LoadedConfigFiles> {
  const files = await listConfigFiles(path);
  const out: LoadedConfigFiles = { files, resources: [], issues: [], warnings: [], readWarnings: [], documents: new Map() };
  if (files.length === 0) out.warnings.push(`${path}: no .yaml or .yml files found`);
  const unknownKinds: UnknownKinds = new Map();
  for (const file of files) {
    const text = await readConfigFile(file);
    out.documents.set(file, parseText(file, text, out, unknownKinds));
  }
  for (const [kind, { where, hint }] of unknownKinds) out.warnings.push(`skipping ${kind}: infergate does not use this kind (first seen in ${where})${hint}`);
  return out;
}

/**
 * Parses one file's text into `out`; returns how many documents were not empty (a syntax error counts).
 * Exported for tests and for sources that do not read from disk.
 */
export function parseText(file: string, text: string, out: LoadedFiles, unknownKinds: UnknownKinds = new Map()): number {
  // With prettyErrors off, yaml never fills `linePos`; a LineCounter turns the error offset into a line.
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { prettyErrors: false, lineCounter: lines });
  // The yaml typings allow a non-array (EmptyStream) result; guard so an empty file is simply no documents.
  if (!Array.isArray(docs)) return 0;
  let documents = 0;
  docs.forEach((doc, i) => {
    const at = { file, document: i + 1 };
    if (doc.errors.length > 0) {
      documents++;
      for (const e of doc.errors) {
        const line = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
        out.issues.push({ location: at, field: null, message: `${YAML_SYNTAX_ERROR}${line ? ` at line ${line.line}, column ${line.col}` : ''}: ${e.message.split('\n')[0]}` });
      }
      return;
    }
    const raw: unknown = doc.toJS();
    if (raw === null || raw === undefined) return; // an empty document between `---` separators
    documents++;
    // `kubectl get ... -o yaml` writes one `kind: List` whose items are the objects; read them as documents.
    const listKind = listKindOf(raw);
    if (listKind !== undefined && !Array.isArray((raw as { items?: unknown }).items)) {
      // A list with no items (`items:` left empty) holds no objects; anything else in `items` is no list of them.
      const items = (raw as { items?: unknown }).items;
      if (items !== undefined && items !== null) out.issues.push({ location: at, field: 'items', message: `a ${listKind} holds its objects in items, a YAML list; got ${describe(items)}` });
      return;
    }
    const list = isList(raw);
    const items = list ? raw.items : [raw];
    items.forEach((item, j) => {
      const where: SourceLocation = list ? { ...at, item: j } : at;
      const result = readResource(item, where);
      out.issues.push(...result.issues);
      for (const w of ('warnings' in result && result.warnings) || []) {
        out.readWarnings.push(w);
        out.warnings.push(formatIssue(w));
      }
      if ('resource' in result) out.resources.push(result.resource);
      else if (result.unknownKind && !unknownKinds.has(result.unknownKind)) {
        unknownKinds.set(result.unknownKind, { where: formatPlace(where), hint: result.hint ?? '' });
        out.readWarnings.push({ location: locate(item, where), field: 'kind', message: `${result.unknownKind} is not a kind infergate reads, so this object is ignored${result.hint ?? ''}`, misroutes: false });
      }
    });
  });
  return documents;
}

/** `at` with the object a skipped document declares, for its warning. */
function locate(item: unknown, at: SourceLocation): SourceLocation {
  const o = item as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  const meta = o.metadata ?? {};
  return { ...at, kind: String(o.kind), namespace: typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : 'default', name: typeof meta.name === 'string' ? meta.name : '<unnamed>' };
}

/** The kind of a `kind: List` (or `PodList`, ...) document, whatever its items; else undefined. */
function listKindOf(raw: unknown): string | undefined {
  const kind = (raw as { kind?: unknown }).kind;
  return typeof raw === 'object' && typeof kind === 'string' && kind.endsWith('List') ? kind : undefined;
}

function isList(raw: unknown): raw is { items: unknown[] } {
  const o = raw as { kind?: unknown; items?: unknown };
  return typeof raw === 'object' && typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items);
}
