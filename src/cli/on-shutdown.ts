/** Stop on SIGINT/SIGTERM for the long-running commands: the first signal stops gracefully, a second one exits at once. */
import type { Logger } from '../logger.js';
import { accessLogTarget } from '../observability/access-log.js';

/** The signals that stop a command, with their numbers (POSIX). */
const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;

export type StopSignal = keyof typeof SIGNALS;

/** The exit status of a process ended by `signal`, as shells report it: 128 + its number (SIGINT 130, SIGTERM 143). */
export function signalExitCode(signal: StopSignal): number {
  return 128 + SIGNALS[signal];
}

/**
 * Runs `stop` once on the first SIGINT or SIGTERM, then exits 0 (1 if it failed). A second signal during
 * the stop exits at once with 128 + its number, cutting whatever was still in flight.
 */
export function onShutdown(stop: (signal: StopSignal) => Promise<void>, log?: Logger): void {
  let stopping = false;
  const handler = (signal: StopSignal): void => {
    if (stopping) {
      log?.warn(`${signal} again: exiting now, without waiting for what is still in flight`, { exit_code: signalExitCode(signal) });
      process.exit(signalExitCode(signal));
    }
    stopping = true;
    log?.info(`${signal} received: stopping gracefully; send it again to exit at once`);
    stop(signal).then(
      () => process.exit(0),
      (e: unknown) => {
        log?.error('shutdown failed', { error: (e as Error).message });
        process.exit(1);
      },
    );
  };
  for (const signal of Object.keys(SIGNALS) as StopSignal[]) process.on(signal, handler);
}

/**
 * Log rotation for the long-running commands that may keep an access log: SIGHUP reopens its file (logrotate
 * without copytruncate, then `kill -HUP`); without a file (`--access-log off` or `stdout`) it is only logged.
 * Either way SIGHUP no longer ends the process, as Node's default would. Returns what removes the handler.
 */
export function onSighupReopen(accessLog: { reopen(): Promise<void> } | undefined, file: string | undefined, log: Logger): () => void {
  const target = accessLogTarget(file);
  const handler = (): void => {
    // stdout has nothing to reopen: saying "reopened" would have an operator look for a file that is not there.
    if (!accessLog || typeof target !== 'object') return log.info(`SIGHUP received: no access log file to reopen${target === 'stdout' ? ' (--access-log stdout)' : ''}`);
    accessLog.reopen().then(
      () => log.info('SIGHUP received: access log reopened', { file }),
      // The path cannot be opened (its directory gone, no permission): lines go on to the file open before.
      (e: unknown) => log.error('SIGHUP received: the access log could not be reopened; lines still go to the file open before', { error: (e as Error).message }),
    );
  };
  process.on('SIGHUP', handler);
  return () => process.off('SIGHUP', handler);
}
