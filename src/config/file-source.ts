/**
 * Loads configuration from YAML files and watches them: once the files have settled, a valid edit is applied,
 * an invalid one (including a file left with no documents) reported.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError } from '../api/config-issue.js';
import type { Logger } from '../logger.js';
import { DirectoryWatch } from './directory-watch.js';
import { objectId } from './edit-risk.js';
import { loadConfigFiles, type LoadedConfigFiles } from './load-files.js';
import { filesState, waitForSettledFiles } from './settled-files.js';
import { buildSnapshot, type ConfigSnapshot, type SnapshotOptions } from './snapshot.js';

/** Reads and validates the whole path; throws ConfigError with every problem found. */
export async function loadSnapshotFromPath(path: string, options: SnapshotOptions, log?: Logger): Promise<ConfigSnapshot> {
  return snapshotOf(await loadConfigFiles(path), options, log);
}

function snapshotOf(loaded: LoadedConfigFiles, options: SnapshotOptions, log?: Logger): ConfigSnapshot {
  for (const w of loaded.warnings) log?.warn(w);
  const snapshot = buildSnapshot(loaded.resources, options, loaded.issues);
  for (const w of snapshot.warnings) log?.warn(w);
  // What the reader skipped or ignored (an unknown kind, a misspelt field) is kept with the snapshot, so the
  // dashboard's configuration issues (/api/state) show it as long as the files say it, not only a log line.
  return loaded.warnings.length === 0 ? snapshot : { ...snapshot, warnings: [...loaded.warnings, ...snapshot.warnings] };
}

export interface FileSourceOptions extends SnapshotOptions {
  /** Quiet period after the last file event before reloading; editors write files in several steps. */
  debounceMs?: number;
  /**
   * How long the files must keep their size and modification time before a reload reads them (default 300 ms):
   * a writer that pauses mid-write must not have half a file applied. Renaming a finished file into place
   * never shows a half file.
   */
  settleMs?: number;
  /**
   * A change that looks unfinished (invalid, a file emptied, objects removed) is acted on only once the files
   * have been unchanged this long (default 2000 ms): a writer that flushes whole documents and pauses between
   * them leaves a valid file with objects missing, which the short settle window alone would apply.
   */
  unfinishedSettleMs?: number;
  /**
   * Take a file that held documents and now holds none (empty, or only whitespace and comments) as declaring
   * nothing. Default false: such an edit is rejected as a write in progress; deleting the file is how its
   * objects are removed.
   */
  allowEmptyFiles?: boolean;
  /**
   * How often the watched directory's path is checked for another directory (or none) being there, and the
   * files for having changed since they were last read (default 5000 ms): the bound for what no watch event
   * tells (the parent not watchable, a symlinked file's target in another directory).
   */
  directoryCheckMs?: number;
  /**
   * Told why a reload was rejected before it reached `apply` (the files could not be read or validated), for
   * /readyz and the rejected-reloads count; the last good configuration stays in force meanwhile. A snapshot
   * that `apply` refuses (an EndpointPickerConfig that does not build) is not passed here: the one applying it
   * (the edit guard, the reload counter) has reported it already, and telling it again would count it twice.
   */
  onRejected?: (message: string) => void;
}

/**
 * The kubelet's atomic writer (ConfigMap and Secret volumes) updates a mount by writing a new `..<timestamp>`
 * directory, pointing a `..data_tmp` symlink at it and renaming that over `..data`; the files the user sees are
 * symlinks through `..data` that never change themselves, so these names are the only events such an update gives.
 * https://github.com/kubernetes/kubernetes/blob/master/pkg/volume/util/atomic_writer.go
 */
const ATOMIC_WRITER_NAME = /^\.\./;
const YAML_FILE = /\.ya?ml$/i;

/** Whether a watch event on the directory can change the configuration: a YAML file (or the one watched file), or a kubelet update. */
function isConfigChange(name: string | null, only: string | undefined): boolean {
  // Some platforms give no name, and a directory replaced gives none: the change may be anything.
  if (name === null) return true;
  if (ATOMIC_WRITER_NAME.test(name)) return true;
  return only ? name === only : YAML_FILE.test(name);
}

/** A file that is still changing after this long is read anyway (a log-like writer must not stall reloads). */
const MAX_SETTLE_WAIT_MS = 10_000;
/** How often the files are compared with what was last read, by default (FileSourceOptions.directoryCheckMs). */
const DEFAULT_POLL_MS = 5000;

/**
 * Watches a file or directory. Reloads are serialized: an edit during a reload triggers one more reload,
 * and the last good snapshot stays in force whenever a reload fails.
 */
export class FileConfigSource {
  readonly path: string;
  #opts: FileSourceOptions;
  #log: Logger;
  #apply: (s: ConfigSnapshot) => Promise<void>;
  #watcher: DirectoryWatch | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;
  /** Documents per file in the last configuration handed on: a file that had some and now has none is a write in progress. */
  #documents = new Map<string, number>();
  /** `Kind/namespace/name` of every object in the last configuration handed on, to tell that a change removes some. */
  #objects = new Set<string>();
  /** The files' signature already given the longer wait: a change still looking unfinished after it is acted on. */
  #waitedFor: string | undefined;
  /** The files' signature as last read (applied, held or rejected): the poll reloads when they differ from it. */
  #lastRead: string | undefined;
  #poll: NodeJS.Timeout | undefined;
  #polling = false;

  constructor(path: string, opts: FileSourceOptions, log: Logger, apply: (s: ConfigSnapshot) => Promise<void>) {
    this.path = resolve(path);
    this.#opts = opts;
    this.#log = log;
    this.#apply = apply;
  }

  /** The first load: errors propagate so the process can refuse to start on a broken config. */
  async start(): Promise<ConfigSnapshot> {
    // Before the read: a change made while reading then differs from it, and the poll reloads.
    this.#lastRead = (await filesState(this.path)).signature;
    const loaded = await loadConfigFiles(this.path);
    const snapshot = snapshotOf(loaded, this.#opts, this.#log);
    await this.#apply(snapshot);
    this.#handedOn(loaded);
    const isDir = (await stat(this.path)).isDirectory();
    // Watch the directory even for a single file: editors replace files by rename, which ends a file watch.
    const only = isDir ? undefined : basename(this.path);
    this.#watcher = new DirectoryWatch(isDir ? this.path : dirname(this.path), this.#log, (name) => {
      if (isConfigChange(name, only)) this.#schedule();
    }, this.#opts.directoryCheckMs !== undefined ? { checkMs: this.#opts.directoryCheckMs } : {});
    await this.#watcher.start();
    // A symlinked file (`-f config.yaml` linked to a checkout elsewhere, a directory of links) is written in its
    // target's directory, which gives the watched one no event: compare the files themselves now and then.
    this.#poll = setInterval(() => void this.#pollFiles(), this.#opts.directoryCheckMs ?? DEFAULT_POLL_MS);
    this.#poll.unref();
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
    if (this.#poll) clearInterval(this.#poll);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.reload(), this.#opts.debounceMs ?? 150);
  }

  /** Reloads when the files differ from what was last read and no reload is on its way already. */
  async #pollFiles(): Promise<void> {
    if (this.#polling || this.#running || this.#closed) return;
    this.#polling = true;
    try {
      const now = await filesState(this.path);
      if (now.signature === this.#lastRead || this.#running || this.#closed) return;
      this.#log.debug('configuration files changed without a watch event; reloading', { path: this.path });
      this.#schedule();
    } finally {
      this.#polling = false;
    }
  }

  async #reloadLoop(): Promise<void> {
    do {
      this.#again = false;
      let applying = false;
      try {
        const settleMs = this.#opts.settleMs ?? 300;
        const settled = await waitForSettledFiles(this.path, settleMs, MAX_SETTLE_WAIT_MS, () => this.#closed);
        if (this.#closed) return;
        this.#lastRead = settled.signature;
        if (!settled.settled) this.#log.warn(`configuration files still changing after ${MAX_SETTLE_WAIT_MS} ms; reading them anyway`, { path: this.path });
        const loaded = await loadConfigFiles(this.path);
        if ((await filesState(this.path)).signature !== settled.signature) {
          // Written to while being read: what was read may mix two versions. Read again once it settles.
          this.#again = true;
          continue;
        }
        const quietMs = Date.now() - settled.newestChangeMs;
        const wantQuietMs = this.#opts.unfinishedSettleMs ?? 2000;
        if (quietMs < wantQuietMs && this.#waitedFor !== settled.signature && this.#looksUnfinished(loaded)) {
          // Once per state of the files, and never longer than the window (a clock skewed into the future).
          this.#waitedFor = settled.signature;
          await delay(Math.min(wantQuietMs, wantQuietMs - quietMs));
          this.#again = true;
          continue;
        }
        this.#rejectEmptied(loaded);
        const snapshot = snapshotOf(loaded, this.#opts, this.#log);
        if (this.#closed) return;
        applying = true;
        await this.#apply(snapshot);
        this.#handedOn(loaded);
      } catch (e) {
        const msg = e instanceof ConfigError ? e.message : (pathGone(e, this.path) ?? `${(e as Error).message}`);
        this.#log.error(`configuration change rejected; the last good configuration stays in force\n${msg}`);
        if (!applying) this.#opts.onRejected?.(msg);
      }
    } while (this.#again && !this.#closed);
  }

  #handedOn(loaded: LoadedConfigFiles): void {
    this.#documents = loaded.documents;
    this.#objects = new Set(loaded.resources.map(objectId));
  }

  /** Invalid, a file emptied, or objects gone: what a writer paused mid-file leaves. */
  #looksUnfinished(loaded: LoadedConfigFiles): boolean {
    if (loaded.issues.length > 0) return true;
    if ([...loaded.documents].some(([file, n]) => n === 0 && (this.#documents.get(file) ?? 0) > 0)) return true;
    const now = new Set(loaded.resources.map(objectId));
    for (const id of this.#objects) if (!now.has(id)) return true;
    return false;
  }

  /** A file that held documents and now parses to none is taken as half-written, not as "remove everything". */
  #rejectEmptied(loaded: LoadedConfigFiles): void {
    if (this.#opts.allowEmptyFiles) return;
    const emptied = [...loaded.documents].filter(([file, n]) => n === 0 && (this.#documents.get(file) ?? 0) > 0).map(([file]) => file);
    if (emptied.length === 0) return;
    throw new Error(
      `${emptied.join(', ')}: no YAML documents (the file is empty, or holds only whitespace and comments). ` +
        'This is taken as a write in progress, not as an edit: to remove the objects the file declared, delete the file; ' +
        'to edit it, write the new version beside it and rename it into place',
    );
  }
}

/**
 * The rejection for the watched file or directory itself gone: Node's bare `ENOENT: no such file or directory,
 * stat ...` reads as a crash, not as the file having been deleted or renamed away (an editor's save, a `git
 * checkout`), which the last good configuration survives.
 */
function pathGone(e: unknown, path: string): string | undefined {
  const err = e as NodeJS.ErrnoException;
  if (err?.code !== 'ENOENT' || err.path !== path) return undefined;
  return `-f ${path} no longer exists (deleted, or renamed away); the configuration it gave stays in force until it is back. To change it, write the new version beside it and rename it into place`;
}
