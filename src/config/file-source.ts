/** Loads configuration from YAML files and watches them: a valid edit is applied, an invalid one reported. */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { ConfigError } from '../api/config-issue.js';
import type { Logger } from '../observability/logger.js';
import { loadConfigFiles } from './load-files.js';
import { buildSnapshot, type ConfigSnapshot, type SnapshotOptions } from './snapshot.js';

/** Reads and validates the whole path; throws ConfigError with every problem found. */
export async function loadSnapshotFromPath(path: string, options: SnapshotOptions, log?: Logger): Promise<ConfigSnapshot> {
  const loaded = await loadConfigFiles(path);
  for (const w of loaded.warnings) log?.warn(w);
  const snapshot = buildSnapshot(loaded.resources, options, loaded.issues);
  for (const w of snapshot.warnings) log?.warn(w);
  return snapshot;
}

export interface FileSourceOptions extends SnapshotOptions {
  /** Quiet period after the last file event before reloading; editors write files in several steps. */
  debounceMs?: number;
}

/**
 * Watches a file or directory. Reloads are serialized: an edit during a reload triggers one more reload,
 * and the last good snapshot stays in force whenever a reload fails.
 */
export class FileConfigSource {
  readonly path: string;
  #opts: FileSourceOptions;
  #log: Logger;
  #apply: (s: ConfigSnapshot) => Promise<void>;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(path: string, opts: FileSourceOptions, log: Logger, apply: (s: ConfigSnapshot) => Promise<void>) {
    this.path = resolve(path);
    this.#opts = opts;
    this.#log = log;
    this.#apply = apply;
  }

  /** The first load: errors propagate so the process can refuse to start on a broken config. */
  async start(): Promise<ConfigSnapshot> {
    const snapshot = await loadSnapshotFromPath(this.path, this.#opts, this.#log);
    await this.#apply(snapshot);
    const isDir = (await stat(this.path)).isDirectory();
    // Watch the directory even for a single file: editors replace files by rename, which ends a file watch.
    const dir = isDir ? this.path : dirname(this.path);
    const only = isDir ? undefined : basename(this.path);
    this.#watcher = watch(dir, { persistent: false }, (_event, name) => {
      if (only && name !== only) return;
      if (!only && name && !/\.ya?ml$/i.test(name.toString())) return;
      this.#schedule();
    });
    this.#watcher.on('error', (e) => this.#log.error('config watch failed; edits will not be picked up', { path: this.path, error: e.message }));
    return snapshot;
  }

  /** Reloads now (also what a file event triggers after the debounce). Resolves when that reload is done. */
  reload(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#reloadLoop().finally(() => (this.#running = undefined));
    return this.#running;
  }

  close(): void {
    // A reload already reading files must not apply its snapshot to a gateway that is shutting down.
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.reload(), this.#opts.debounceMs ?? 150);
  }

  async #reloadLoop(): Promise<void> {
    do {
      this.#again = false;
      try {
        const snapshot = await loadSnapshotFromPath(this.path, this.#opts, this.#log);
        if (this.#closed) return;
        await this.#apply(snapshot);
      } catch (e) {
        const msg = e instanceof ConfigError ? e.message : `${(e as Error).message}`;
        this.#log.error(`configuration change rejected; the last good configuration stays in force\n${msg}`);
      }
    } while (this.#again);
  }
}
