/** Reads `-f PATH` for validate: the typed resources as `serve -f` reads them, plus the raw model servers. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { SourceLocation } from '../api/config-issue.js';
import type { Pod } from '../api/pod.js';
import type { Resource } from '../api/resource.js';
import { DanglingSymlinkError, listConfigFiles, parseText, readConfigFile, type LoadedFiles, type UnknownKinds } from '../config/load-files.js';
import { podServer, templateServer, WORKLOAD_KINDS, type ModelServer, type RawObject } from './model-servers.js';
import type { UnreadManifest, ValidationInput } from './validation-context.js';
import { noConfigFilesMessage } from '../config/no-config-files.js';
import { splitSkippedKinds } from './skipped-kinds.js';

/** Thrown when the source cannot be read at all (exit status 2), as opposed to read with problems. */
export class SourceUnreadableError extends Error {
  override readonly name = 'SourceUnreadableError';
}

/** `-f -`: the configuration comes from standard input (`kubectl get ... -o yaml | infergate validate -f -`), as kubectl's `-f -`. */
export const STDIN_PATH = '-';

/** How findings locate what was read from standard input. */
export const STDIN_FILE = '<stdin>';

/** What `-f -` reads: process.stdin, or a stream given by a test. */
export type StdinSource = AsyncIterable<string | Buffer> & { isTTY?: boolean };

export async function readFilesInput(path: string, stdin: StdinSource = process.stdin): Promise<ValidationInput> {
  let files: string[];
  if (path === STDIN_PATH) files = [STDIN_FILE];
  else {
    try {
      files = await listConfigFiles(path);
    } catch (e) {
      throw new SourceUnreadableError(`cannot read ${path}: ${(e as Error).message}`);
    }
  }
  if (files.length === 0) throw new SourceUnreadableError((await noConfigFilesMessage(path)).replace(/files/, 'files to validate'));
  const loaded: LoadedFiles = { files, resources: [], issues: [], warnings: [], readWarnings: [] };
  const raw: RawObject[] = [];
  const unknownKinds: UnknownKinds = new Map();
  for (const file of files) {
    let text: string;
    try {
      text = path === STDIN_PATH ? await readStdin(stdin) : await readConfigFile(file);
    } catch (e) {
      if (e instanceof SourceUnreadableError) throw e;
      throw new SourceUnreadableError(e instanceof DanglingSymlinkError ? e.message : `cannot read ${file}: ${(e as Error).message}`);
    }
    // The same reader as `serve -f`, so both see the same objects and the same problems.
    parseText(file, text, loaded, unknownKinds);
    raw.push(...rawObjects(file, text));
  }
  // Workloads are skipped by `serve` but read here, for their pod templates: no warning for those.
  const read = loaded.readWarnings.filter((w) => !(w.field === 'kind' && WORKLOAD_KINDS.includes(w.location.kind ?? '')));
  // The gateway's ServiceAccount, Roles, Istio objects beside the pools: counted, not findings.
  const { warnings, skipped } = splitSkippedKinds(read, raw);
  const unread = path === STDIN_PATH ? [] : await unreadManifests(path);
  return { source: 'files', resources: loaded.resources, issues: loaded.issues, warnings, skipped, unread, servers: serversOf(loaded.resources, raw) };
}

/**
 * In a directory given to -f, what looks like manifests that neither -f nor `serve -f` reads: `.json` files (a
 * `kubectl get -o json` export) and subdirectories holding `.yaml`, `.yml` or `.json` files. Only ever a note:
 * the directory's YAML files were read.
 */
async function unreadManifests(path: string): Promise<UnreadManifest[]> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
  const out: UnreadManifest[] = [];
  for (const e of entries.filter((x) => !x.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const at = join(path, e.name);
    if (e.isFile() && MANIFEST_JSON.test(e.name)) out.push({ path: at, kind: 'json' });
    else if (e.isDirectory()) {
      const inside = (await readdir(at).catch(() => [])).filter((n) => !n.startsWith('.') && (MANIFEST_JSON.test(n) || /\.ya?ml$/i.test(n)));
      if (inside.length > 0) out.push({ path: at, kind: 'directory', files: inside.length });
    }
  }
  return out;
}

const MANIFEST_JSON = /\.json$/i;

/** All of standard input; a terminal is refused rather than waited on, since nothing would ever arrive. */
async function readStdin(stdin: StdinSource): Promise<string> {
  if (stdin.isTTY === true) throw new SourceUnreadableError('-f - reads the configuration from standard input, which is a terminal here: pipe it in (kubectl get inferencepools,httproutes,configmaps,pods -A -o yaml | infergate validate -f -), or give a file or directory');
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new SourceUnreadableError('-f -: standard input was empty: nothing to validate');
  return text;
}

/** Every document (and `kind: List` item) that parses, with its location; syntax errors are parseText's to report. */
function rawObjects(file: string, text: string): RawObject[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return [];
  return docs.flatMap((doc, i) => {
    if (doc.errors.length > 0) return [];
    const value: unknown = doc.toJS();
    const o = value as { kind?: unknown; items?: unknown } | null;
    const list = o && typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items) ? (o.items as unknown[]) : undefined;
    // Located as parseText locates them, so a Pod's raw spec is found again by its place.
    return list ? list.map((item, j) => ({ raw: item, at: { file, document: i + 1, item: j } })) : [{ raw: value, at: { file, document: i + 1 } }];
  });
}

/** Pods (readiness from the typed Pod, served models from the raw spec) and workload pod templates. */
function serversOf(resources: readonly Resource[], raw: readonly RawObject[]): ModelServer[] {
  const rawPods = new Map<string, unknown>();
  const templates: ModelServer[] = [];
  for (const doc of raw) {
    const o = doc.raw as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
    if (o?.kind === 'Pod') rawPods.set(podKey(doc.at, o.metadata?.namespace, o.metadata?.name), o);
    else {
      const t = templateServer(doc);
      if (t) templates.push(t);
    }
  }
  const pods = resources.filter((r): r is Pod => r.kind === 'Pod');
  return [...pods.map((p) => podServer(p, rawPods.get(podKey(p.source, p.meta.namespace, p.meta.name)))), ...templates];
}

function podKey(at: SourceLocation, namespace: unknown, name: unknown): string {
  return `${at.file}\u0000${at.document}\u0000${at.item ?? ''}\u0000${typeof namespace === 'string' && namespace ? namespace : 'default'}/${String(name)}`;
}
