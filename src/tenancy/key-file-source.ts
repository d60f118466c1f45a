/**
 * `--api-keys FILE`: read at start (a bad file stops the gateway from starting), then watched. A bad edit is
 * logged and the last good keys stay in force; the log names the file and the problem, never a key or a hash.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../logger.js';
import { KeyFileError, parseKeyFile } from './key-file.js';
import type { KeySource } from './key-source.js';
import { KeySet } from './key-set.js';

export class KeyFileSource implements KeySource {
  readonly path: string;
  #keys: KeySet;
  #problem: string | undefined;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  /** The file's size, modification time and inode as last read: the poll reloads when they differ. */
  #lastRead: string | undefined;
  #closed = false;
  readonly #log: Logger;
  readonly #debounceMs: number;
  /** Told after each reload that applied (tests wait on it). */
  onReload: (() => void) | undefined;

  private constructor(path: string, keys: KeySet, log: Logger, debounceMs: number) {
    this.path = path;
    this.#keys = keys;
    this.#log = log;
    this.#debounceMs = debounceMs;
  }

  /**
   * Reads the file (rejecting with every problem found) and starts watching it; its state is also compared with
   * what was last read every `pollMs`.
   */
  static async open(path: string, log: Logger, debounceMs = 200, pollMs = DEFAULT_POLL_MS): Promise<KeyFileSource> {
    const abs = resolve(path);
    const before = await fileState(abs);
    const src = new KeyFileSource(abs, new KeySet(parseFile(await readFile(abs, 'utf8'), abs)), log, debounceMs);
    src.#lastRead = before;
    // The directory, not the file: editors and `kubectl`-mounted Secrets replace the file by renaming.
    src.#watcher = watch(dirname(abs), (_event, name) => {
      if (name !== null && name !== basename(abs) && !name.startsWith('..')) return;
      src.#schedule();
    });
    src.#watcher.on('error', (e) => log.warn(`cannot watch the API keys file's directory; edits are noticed within ${pollMs} ms`, { file: abs, error: e.message }));
    // What the directory's events do not tell: a symlinked file's target edited in another directory, the
    // directory itself replaced (the watch follows the old one).
    src.#poll = setInterval(() => {
      void fileState(abs).then((now) => {
        if (now !== src.#lastRead) src.#schedule();
      });
    }, pollMs);
    src.#poll.unref();
    return src;
  }

  get keys(): KeySet {
    return this.#keys;
  }

  get problem(): string | undefined {
    return this.#problem;
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.reload(), this.#debounceMs);
  }

  /** Reads the file again: the new keys in force, or the problem logged and the last good keys kept. */
  async reload(): Promise<void> {
    this.#lastRead = await fileState(this.path);
    try {
      const next = new KeySet(parseFile(await readFile(this.path, 'utf8'), this.path));
      this.#keys = next;
      this.#problem = undefined;
      this.#log.info('API keys in force', { file: this.path, keys: next.size, tenants: next.tenants().length });
      this.onReload?.();
    } catch (e) {
      this.#problem = (e as Error).message;
      this.#log.warn('API keys file rejected; the last good keys stay in force', { file: this.path, error: this.#problem });
    }
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#poll);
    this.#watcher?.close();
  }
}

/** How often the file is compared with what was last read, by default. */
const DEFAULT_POLL_MS = 5000;

/** Size, modification time and inode, through symlinks; equal strings mean nothing was written or renamed into place. */
async function fileState(path: string): Promise<string> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.size} ${s.mtimeNs} ${s.ino}`;
  } catch (e) {
    return `unreadable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}

/**
 * An empty file (or one of comments only) is refused: it is what a watcher reads between the truncation and the
 * write of an edit made in place (`cat > keys.yaml`, many editors), and taking it as "no keys" would answer every
 * request 401 until the write lands. No keys at all is `keys: []`, said explicitly.
 */
function parseFile(text: string, path: string): ReturnType<typeof parseKeyFile> {
  const blank = text.split(/\r?\n|\r/).every((line) => line.trim() === '' || line.trimStart().startsWith('#'));
  if (blank) throw new KeyFileError(`${path}: the file is empty (an edit being written?); write \`keys: []\` to remove every key`);
  return parseKeyFile(text, path);
}
