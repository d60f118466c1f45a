/** Waits for configuration files to stop changing before they are read: a writer may pause halfway through a file. */
import { stat } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { listConfigFiles } from './load-files.js';

/**
 * The files a path names, each with its size, modification time and inode, in one string: equal strings mean
 * nothing was written, created, deleted or renamed into place in between. A file gone since the listing
 * (deleted mid-scan) is part of the string as such.
 */
export async function filesSignature(path: string): Promise<string> {
  let files: string[];
  try {
    files = await listConfigFiles(path);
  } catch (e) {
    return `unreadable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  const parts = await Promise.all(
    files.map(async (f) => {
      try {
        const s = await stat(f, { bigint: true });
        return `${f} ${s.size} ${s.mtimeNs} ${s.ino}`;
      } catch {
        return `${f} gone`;
      }
    }),
  );
  return parts.join('\n');
}

export interface Settled {
  /** The signature the files had for a whole window; compare with filesSignature after reading them. */
  signature: string;
  /** False when they were still changing at `maxWaitMs` (read anyway: a file written forever must not stall reloads). */
  settled: boolean;
}

/** Resolves once two signatures `windowMs` apart are equal, or after `maxWaitMs`; `stop()` true ends the wait early. */
export async function waitForSettledFiles(path: string, windowMs: number, maxWaitMs: number, stop: () => boolean = () => false): Promise<Settled> {
  const end = Date.now() + maxWaitMs;
  let before = await filesSignature(path);
  for (;;) {
    await delay(windowMs);
    const now = await filesSignature(path);
    if (now === before) return { signature: now, settled: true };
    if (Date.now() >= end || stop()) return { signature: now, settled: false };
    before = now;
  }
}
