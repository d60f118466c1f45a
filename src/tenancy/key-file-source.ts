/**
 * `--api-keys FILE`: read at start (a bad file stops the gateway from starting), then watched. A bad edit is
 * logged and the last good keys stay in force; the log names the file and the problem, never a key or a hash.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
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

  /** Reads the file (rejecting with every problem found) and starts watching it. */
  static async open(path: string, log: Logger, debounceMs = 200): Promise<KeyFileSource> {
    const abs = resolve(path);
    const src = new KeyFileSource(abs, new KeySet(parseFile(await readFile(abs, 'utf8'), abs)), log, debounceMs);
    // The directory, not the file: editors and `kubectl`-mounted Secrets replace the file by renaming.
    src.#watcher = watch(dirname(abs), (_event, name) => {
      if (name !== null && name !== basename(abs) && !name.startsWith('..')) return;
      clearTimeout(src.#timer);
      src.#timer = setTimeout(() => void src.reload(), src.#debounceMs);
    });
    src.#watcher.on('error', (e) => log.warn('cannot watch the API keys file; edits apply only after a restart', { file: abs, error: e.message }));
    return src;
  }

  get keys(): KeySet {
    return this.#keys;
  }

  get problem(): string | undefined {
    return this.#problem;
  }

  /** Reads the file again: the new keys in force, or the problem logged and the last good keys kept. */
  async reload(): Promise<void> {
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
    clearTimeout(this.#timer);
    this.#watcher?.close();
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
