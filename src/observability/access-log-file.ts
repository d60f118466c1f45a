/**
 * The access log's file (`--access-log FILE`): opened for appending at startup, reopened on SIGHUP, and never
 * able to stop the gateway. A file that cannot be opened at startup stops it there with a message; one that
 * cannot be written later (a full disk, its directory gone at a reopen) costs lines, said in the log, not the process.
 */
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import type { Logger } from '../logger.js';

/** How often a file that failed is tried again (it is also tried at each SIGHUP). */
export const RETRY_MS = 5000;
/** While the file fails, the log says so at most this often, with the lines dropped meanwhile. */
const REPORT_MS = 60_000;
/**
 * Bytes waiting for a file that takes them slower than they come (a stalled network volume): past this, lines are
 * dropped rather than kept in memory without bound.
 */
export const MAX_PENDING_BYTES = 16 * 1024 * 1024;

/** Opens `path` for appending; throws an error naming the flag, the path and why (ENOENT, EACCES, EISDIR...). */
export function openForAppend(path: string): number {
  try {
    return openSync(path, 'a');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(`--access-log ${path}: cannot open the file for appending (${err.code ?? err.message}); give a file in a directory that exists and this process may write to, or stdout, or off`);
  }
}

export class AccessLogFile {
  readonly #path: string;
  readonly #log: Logger;
  #stream: WriteStream;
  /** Set while the file cannot be written: when it failed (or was last tried). */
  #failedAt: number | undefined;
  /** Lines lost since the log last said so. */
  #dropped = 0;
  #reportedAt = -Infinity;
  /** A file opened again after a failure: the first write that succeeds says it works again. */
  #recovering = false;

  /** Throws (openForAppend) when the file cannot be opened: a startup error, not a failure later. */
  constructor(path: string, log: Logger) {
    this.#path = path;
    this.#log = log;
    this.#stream = this.#streamOf(openForAppend(path));
  }

  /** Writes `bytes` (`lines` lines); while the file fails they are dropped and counted, and it is retried every RETRY_MS. */
  write(bytes: Buffer, lines: number): void {
    if (this.#failedAt !== undefined) {
      if (Date.now() - this.#failedAt < RETRY_MS || !this.#retry()) {
        this.#dropped += lines;
        return;
      }
    }
    const stream = this.#stream;
    if (stream.writableLength >= MAX_PENDING_BYTES) {
      this.#dropped += lines;
      this.#report(`access log: the file takes lines slower than they come; lines are dropped while ${MAX_PENDING_BYTES / (1024 * 1024)} MiB wait to be written`, undefined);
      return;
    }
    stream.write(bytes, (err) => {
      if (err) {
        this.#dropped += lines;
        // The error is said once, by the stream's error listener; a file closed by a reopen has none to say.
        if (stream === this.#stream) this.#failed(stream, err);
      } else if (this.#recovering && stream === this.#stream) {
        this.#recovering = false;
        this.#log.info('access log: the file is written again', { file: this.#path, dropped_lines: this.#dropped });
        this.#dropped = 0;
        this.#reportedAt = -Infinity;
      }
    });
  }

  /**
   * Opens the path again (log rotation by renaming) and closes the file open before, once what was written to it
   * is flushed. Rejects when the path cannot be opened: the file open before is kept, so no line is lost to it.
   */
  async reopen(): Promise<void> {
    const fd = openForAppend(this.#path);
    const old = this.#stream;
    this.#stream = this.#streamOf(fd);
    if (this.#failedAt !== undefined) {
      this.#failedAt = undefined;
      this.#recovering = true;
    }
    await endOf(old);
  }

  close(): Promise<void> {
    return endOf(this.#stream);
  }

  #streamOf(fd: number): WriteStream {
    const stream = createWriteStream(this.#path, { fd, flags: 'a' });
    // Without a listener a write error (ENOSPC, EIO) would be thrown as an uncaught exception and end the process.
    stream.on('error', (e) => this.#failed(stream, e));
    return stream;
  }

  #failed(stream: WriteStream, e: Error): void {
    // A file closed by a reopen that fails while its last bytes go out: the new file is not affected.
    if (stream !== this.#stream) {
      this.#log.warn('access log: the file closed at a reopen failed while being written; its last lines may be lost', { error: e.message });
      return;
    }
    this.#failedAt ??= Date.now();
    this.#recovering = false;
    this.#report(`access log: writing to the file failed; lines are dropped until it can be written (tried again every ${RETRY_MS / 1000} s, and at SIGHUP)`, e);
  }

  /** Says why lines are lost, at most once every REPORT_MS, with how many were since the last time. */
  #report(msg: string, e: Error | undefined): void {
    const now = Date.now();
    if (now - this.#reportedAt < REPORT_MS) return;
    this.#reportedAt = now;
    this.#log.error(msg, { file: this.#path, ...(e ? { error: e.message } : {}), dropped_lines: this.#dropped });
    this.#dropped = 0;
  }

  /** Opens the path again after a failure; false (and tried again later) when it still cannot be opened. */
  #retry(): boolean {
    let fd: number;
    try {
      fd = openSync(this.#path, 'a');
    } catch {
      this.#failedAt = Date.now();
      return false;
    }
    const old = this.#stream;
    this.#stream = this.#streamOf(fd);
    this.#failedAt = undefined;
    this.#recovering = true;
    old.destroy();
    return true;
  }
}

/** Ends `stream` once its writes are done; resolves whether or not it had failed. */
function endOf(stream: WriteStream): Promise<void> {
  return new Promise<void>((resolve) => {
    if (stream.destroyed) return resolve();
    stream.end(() => resolve());
  });
}
