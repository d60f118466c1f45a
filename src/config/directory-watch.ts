/**
 * Watches a directory by its path, not its inode: a watch follows the directory it was opened on, so a
 * directory moved away and replaced (`mv DIR DIR.old && cp -r DIR.old DIR`, a deploy tool swapping it) or
 * deleted and re-created would otherwise be watched no more. The parent is watched for the directory's name,
 * and the path is checked on a timer as well, in case the parent cannot be watched.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '../logger.js';

export interface DirectoryWatchOptions {
  /** How often the path is checked for another directory (or none) being there, besides the parent's events (default 5000 ms). */
  checkMs?: number;
}

const DEFAULT_CHECK_MS = 5000;

export class DirectoryWatch {
  readonly dir: string;
  readonly #name: string;
  readonly #log: Logger;
  /** Told of every event in the directory (its entry's name, null when the platform gives none), and, with null, of the directory being replaced or gone. */
  readonly #onChange: (name: string | null) => void;
  readonly #checkMs: number;
  #watcher: FSWatcher | undefined;
  #parent: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** `dev:ino` of the directory being watched; undefined while none is (gone, or the watch failed). */
  #identity: string | undefined;
  #gone = false;
  #failing = false;
  #checking: Promise<void> | undefined;
  #checkAgain = false;
  #closed = false;

  constructor(dir: string, log: Logger, onChange: (name: string | null) => void, opts: DirectoryWatchOptions = {}) {
    this.dir = dir;
    this.#name = basename(dir);
    this.#log = log;
    this.#onChange = onChange;
    this.#checkMs = opts.checkMs ?? DEFAULT_CHECK_MS;
  }

  /** Watches the directory; throws when it cannot be read or watched (the caller refuses to start). */
  async start(): Promise<void> {
    // The identity first: a directory replaced between the two is then seen as replaced by the first check.
    const identity = await identityOf(this.dir);
    if (this.#closed) return;
    this.#watcher = this.#watchDir();
    this.#identity = identity;
    this.#parent = this.#watchParent();
    this.#timer = setInterval(() => this.check(), this.#checkMs);
    this.#timer.unref();
  }

  /** Compares what is at the path with the directory watched, and watches it again if they differ. */
  check(): void {
    if (this.#closed) return;
    if (this.#checking) {
      this.#checkAgain = true;
      return;
    }
    this.#checking = this.#checkLoop().finally(() => (this.#checking = undefined));
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#watcher?.close();
    this.#parent?.close();
    this.#watcher = this.#parent = undefined;
  }

  async #checkLoop(): Promise<void> {
    do {
      this.#checkAgain = false;
      const now = await identityOf(this.dir).catch(() => undefined);
      if (this.#closed) return;
      if (now === this.#identity) continue;
      const wasGone = this.#gone;
      const wasWatching = this.#identity !== undefined;
      this.#watcher?.close();
      this.#watcher = this.#identity = undefined;
      if (now === undefined) {
        this.#gone = true;
        if (!wasGone) this.#log.warn(`the configuration directory ${this.dir} is gone; the configuration in force stays, and the path is watched for a directory to come back`);
        this.#onChange(null);
        continue;
      }
      this.#gone = false;
      try {
        this.#watcher = this.#watchDir();
      } catch (e) {
        this.#watchFailed((e as Error).message);
        continue;
      }
      this.#identity = now;
      this.#failing = false;
      if (wasGone) this.#log.warn(`the configuration directory ${this.dir} is back: watching it, and reloading from it`);
      else if (wasWatching) this.#log.warn(`the configuration directory ${this.dir} was replaced (another directory is at its path): watching the new one, and reloading from it`);
      else this.#log.info(`watching the configuration directory ${this.dir} again, and reloading from it`);
      this.#onChange(null);
    } while (this.#checkAgain && !this.#closed);
  }

  #watchDir(): FSWatcher {
    const w = watch(this.dir, { persistent: false }, (_event, name) => {
      // The directory itself moved or deleted: inotify reports it under its own name.
      if (name === null || name.toString() === this.#name) this.check();
      this.#onChange(name === null ? null : name.toString());
    });
    w.on('error', (e) => {
      this.#watchFailed(e.message);
      if (this.#watcher !== w) return;
      w.close();
      this.#watcher = this.#identity = undefined;
    });
    return w;
  }

  /** Logged once until a watch works again: the timer retries every few seconds. */
  #watchFailed(error: string): void {
    if (this.#failing) return this.#log.debug('config watch failed again', { path: this.dir, error });
    this.#failing = true;
    this.#log.error(`config watch failed; edits will not be picked up until it can be watched again (tried every ${this.#checkMs} ms)`, { path: this.dir, error });
  }

  /** The parent's events for the directory's name; without them (an unreadable parent, `/`), the timer alone notices. */
  #watchParent(): FSWatcher | undefined {
    const parent = dirname(this.dir);
    if (parent === this.dir) return undefined;
    try {
      const w = watch(parent, { persistent: false }, (_event, name) => {
        if (name === null || name.toString() === this.#name) this.check();
      });
      w.on('error', (e) => {
        this.#log.debug(`cannot watch ${parent} for ${this.dir} being replaced; checking every ${this.#checkMs} ms instead`, { error: e.message });
        w.close();
      });
      return w;
    } catch (e) {
      this.#log.debug(`cannot watch ${parent} for ${this.dir} being replaced; checking every ${this.#checkMs} ms instead`, { error: (e as Error).message });
      return undefined;
    }
  }
}

async function identityOf(dir: string): Promise<string> {
  const s = await stat(dir, { bigint: true });
  return `${s.dev}:${s.ino}`;
}
