/** Builds config snapshots from typed resources for tests: `snapshot(inferencePool('p').selects({...}), pod('a')...ready())`. */
import type { Resource } from '../api/resource.js';
import { parseText, type LoadedFiles } from './load-files.js';
import { buildSnapshot, type ConfigSnapshot, type SnapshotOptions } from './snapshot.js';

/** A validated snapshot of these resources; throws ConfigError as a reload would. */
export function snapshot(...resources: Resource[]): ConfigSnapshot {
  return buildSnapshot(resources);
}

/** Like snapshot(), with options such as the gateway name. */
export function snapshotWith(options: SnapshotOptions, ...resources: Resource[]): ConfigSnapshot {
  return buildSnapshot(resources, options);
}

/** A snapshot of YAML texts by file name, read as `serve -f` reads a directory: `snapshotOfFiles({'a.yaml': podYaml(...)})`. */
export function snapshotOfFiles(files: Record<string, string>): ConfigSnapshot {
  const out: LoadedFiles = { files: Object.keys(files), resources: [], issues: [], warnings: [], readWarnings: [] };
  for (const [file, text] of Object.entries(files)) parseText(file, text, out);
  return buildSnapshot(out.resources, {}, out.issues);
}
