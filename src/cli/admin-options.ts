/** `--admin-port` and `--admin-host`, the admin listener's flags `serve` and `extproc` share (extproc: `--metrics-port` too). */
import { Option, type Command } from 'commander';
import { DEFAULT_ADMIN_PORT } from '../observability/admin-server.js';
import { hostFlag, intFlag, USAGE_EXIT_CODE } from './parse-flags.js';
import { exitStartup } from './startup-failure.js';

export interface AdminFlags {
  adminPort?: number;
  adminHost?: string;
  /** Named after GIE's EPP chart setting `enablePprof`: CPU and heap profiles on the admin port (src/observability/profiling.ts). */
  enablePprof?: boolean;
  /** `extproc` only: the port's former name. */
  metricsPort?: number;
}

/** Adds the flags; `metricsPortAlias` also accepts `--metrics-port`, the name `extproc` used before. */
export function addAdminOptions(cmd: Command, metricsPortAlias = false): Command {
  cmd
    .addOption(
      // No commander default: left unset, --metrics-port (extproc) may still give the port. Commander shows
      // defaults only for values it sets, so the description says it.
      new Option('--admin-port <port>', `the admin listener, apart from traffic: GET / (a live dashboard), GET /metrics (Prometheus), GET /debug/scheduling (with --debug-decisions); 0 picks a free port (default: ${DEFAULT_ADMIN_PORT})`).argParser(intFlag(0, 65535)),
    )
    .addOption(new Option('--admin-host <host>', 'address the admin listener binds (default: the --host address)').argParser(hostFlag))
    .addOption(new Option('--enable-pprof', 'serve CPU and heap profiles on the admin port: GET /debug/pprof/profile?seconds=N (a .cpuprofile) and /debug/pprof/heap?seconds=N (a .heapprofile), for Chrome DevTools or speedscope; anyone who reaches the port can take one (default: off)'));
  if (metricsPortAlias) cmd.addOption(new Option('--metrics-port <port>', 'former name of --admin-port, still accepted').argParser(intFlag(0, 65535)));
  return cmd;
}

/**
 * The admin port and host; exits 2 when --admin-port and --metrics-port disagree, or when the admin listener
 * would take the traffic listener's own address (`traffic`: `serve`'s and `demo`'s --host and --port).
 */
export function adminOptionsOf(flags: AdminFlags, traffic?: { host: string; port: number }): { adminPort: number; adminHost?: string; enablePprof: boolean } {
  if (flags.adminPort !== undefined && flags.metricsPort !== undefined && flags.adminPort !== flags.metricsPort) {
    exitStartup(`error: --metrics-port is the former name of --admin-port; give one (got --admin-port ${flags.adminPort} and --metrics-port ${flags.metricsPort})`, USAGE_EXIT_CODE);
  }
  const adminPort = flags.adminPort ?? flags.metricsPort ?? DEFAULT_ADMIN_PORT;
  if (traffic && traffic.port !== 0 && adminPort === traffic.port && (flags.adminHost ?? traffic.host) === traffic.host) {
    exitStartup(`error: --port and --admin-port are both ${adminPort} on ${traffic.host}: give the admin listener a port of its own (or --admin-host another address)`, USAGE_EXIT_CODE);
  }
  return { adminPort, ...(flags.adminHost !== undefined ? { adminHost: flags.adminHost } : {}), enablePprof: flags.enablePprof === true };
}
