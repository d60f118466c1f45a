/** `--shutdown-delay` and `--drain-timeout`, the graceful shutdown flags `serve` and `extproc` share. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_SHUTDOWN_OPTIONS, type ShutdownOptions } from '../lifecycle/shutdown.js';
import { formatDuration, parseDurationMs } from '../upstream/duration.js';

export interface ShutdownFlags {
  shutdownDelay: number;
  drainTimeout: number;
}

/** A duration as the upstream flags take one: `5s`, `1m30s`, `500ms`, or a bare integer of milliseconds. */
function durationFlag(value: string): number {
  const ms = parseDurationMs(value);
  if (ms === undefined) throw new InvalidArgumentError(`must be a duration such as 5s, 1m30s or 500ms (a bare number is milliseconds), got "${value}"`);
  return ms;
}

/** Adds the two flags; `what` names what drains (`requests and streams`, `ext_proc streams`). */
export function addShutdownOptions(cmd: Command, what: string): Command {
  const d = DEFAULT_SHUTDOWN_OPTIONS;
  return cmd
    .addOption(
      new Option('--shutdown-delay <duration>', 'on SIGTERM/SIGINT, how long readiness fails while new connections are still accepted, so load balancers stop sending here first')
        .argParser(durationFlag)
        .default(d.delayMs, formatDuration(d.delayMs)),
    )
    .addOption(
      new Option('--drain-timeout <duration>', `then, how long the ${what} in flight may take to finish before they are cut; keep delay + drain timeout under the pod's terminationGracePeriodSeconds`)
        .argParser(durationFlag)
        .default(d.drainTimeoutMs, formatDuration(d.drainTimeoutMs)),
    );
}

export function shutdownOptionsOf(flags: ShutdownFlags): ShutdownOptions {
  return { delayMs: flags.shutdownDelay, drainTimeoutMs: flags.drainTimeout };
}
