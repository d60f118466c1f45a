/** Waits for configuration files to stop changing before they are read: a writer may pause halfway through a file. */
import { stat } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { listConfigFiles } from './load-files.js';

/** The files' state: equal signatures mean nothing was written, created, deleted or renamed into place in between. */
export interface FilesState {
  /** Each file with its size, modification time and inode; a file gone since the listing says so. */
  signature: string;
  /** The latest modification time among the files and, for a directory, the directory itself (a deletion or rename changes it). */
  newestChangeMs: number;
}

export async function filesState(path: string): Promise<FilesState> {
  let files: string[];
  let newestChangeMs = 0;
  try {
    files = await listConfigFiles(path);
    const self = await stat(path);
    if (self.isDirectory()) newestChangeMs = self.mtimeMs;
  } catch (e) {
    return { signature: `unreadable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, newestChangeMs };
  }
  const parts = await Promise.all(
    files.map(async (f) => {
      try {
        const s = await stat(f, { bigint: true });
        newestChangeMs = Math.max(newestChangeMs, Number(s.mtimeMs));
        return `${f} ${s.size} ${s.mtimeNs} ${s.ino}`;
      } catch {
        return `${f} gone`;
      }
    }),
  );
  return { signature: parts.join('\n'), newestChangeMs };
}

export interface Settled extends FilesState {
  /** False when they were still changing at `maxWaitMs` (read anyway: a file written forever must not stall reloads). */
  settled: boolean;
}

/** Resolves once two states `windowMs` apart are equal, or after `maxWaitMs`; `stop()` true ends the wait early. */
export async function waitForSettledFiles(path: string, windowMs: number, maxWaitMs: number, stop: () => boolean = () => false): Promise<Settled> {
  const end = Date.now() + maxWaitMs;
  let before = await filesState(path);
  for (;;) {
    await delay(windowMs);
    const now = await filesState(path);
    if (now.signature === before.signature) return { ...now, settled: true };
    if (Date.now() >= end || stop()) return { ...now, settled: false };
    before = now;
  }
}
