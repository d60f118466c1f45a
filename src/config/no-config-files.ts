/** What to say about a -f directory that holds no YAML file: what it holds instead, and what to give. */
import { readdir } from 'node:fs/promises';

/**
 * `PATH: no .yaml or .yml files`, then what the directory does hold: a repository's `deploy/` or a kustomize
 * tree keeps its manifests in subdirectories, which -f does not read (neither does `serve -f`).
 */
export async function noConfigFilesMessage(path: string): Promise<string> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
  const dirs = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => `${e.name}/`).sort();
  const others = entries.filter((e) => !e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  const parts = [`${path}: no .yaml or .yml files`];
  if (dirs.length > 0) parts.push(`subdirectories are not read (${list(dirs)}): give one of them to -f, or for a kustomize tree the output of kubectl kustomize DIR saved to a file`);
  if (others.length > 0) parts.push(`it holds ${list(others)}, which -f does not read (only *.yaml and *.yml)`);
  return parts.join('; ');
}

function list(names: readonly string[]): string {
  return names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ');
}
