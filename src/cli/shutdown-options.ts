/** `--shutdown-delay` and `--drain-timeout`, the graceful shutdown flags `serve` and `extproc` share. */
import { Option, type Command } from 'commander';
import { DEFAULT_SHUTDOWN_OPTIONS, type ShutdownOptions } from '../lifecycle/shutdown.js';
import { formatDuration } from '../upstream/duration.js';
import { durationFlag } from './parse-flags.js';

export interface ShutdownFlags {
  shutdownDelay: number;
  drainTimeout: number;
}

/** Adds the two flags; `what` names what drains (`requests and streams`, `ext_proc streams`). */
export function addShutdownOptions(cmd: Command, what: string): Command {
  const d = DEFAULT_SHUTDOWN_OPTIONS;
  return cmd
    .addOption(
      new Option('--shutdown-delay <duration>', 'on SIGTERM/SIGINT, how long readiness fails while new connections are still accepted, so load balancers stop sending here first')
        .argParser(durationFlag(0))
        .default(d.delayMs, formatDuration(d.delayMs)),
    )
    .addOption(
      new Option('--drain-timeout <duration>', `then, how long the ${what} in flight may take to finish before they are cut; keep delay + drain timeout under the pod's terminationGracePeriodSeconds`)
        .argParser(durationFlag(0))
        .default(d.drainTimeoutMs, formatDuration(d.drainTimeoutMs)),
    );
}

export function shutdownOptionsOf(flags: ShutdownFlags): ShutdownOptions {
  return { delayMs: flags.shutdownDelay, drainTimeoutMs: flags.drainTimeout };
}
