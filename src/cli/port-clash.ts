/** Two listeners of one command given the same port on the same address: a usage error, found before any binds. */

export interface ListenerPort {
  /** The flag that sets the port, as `--help` names it. */
  flag: string;
  host: string;
  /** 0 picks a free port, which never clashes. */
  port: number;
}

/**
 * The first clash among `listeners`, said as the error to print, or undefined. Found only once one of the
 * listeners failed to bind, it came after a grpc error line and exited 1 (a failure to start), where `serve`
 * says the same of --port and --admin-port up front and exits 2.
 */
export function portClash(listeners: readonly ListenerPort[]): string | undefined {
  for (let i = 0; i < listeners.length; i++) {
    for (let j = i + 1; j < listeners.length; j++) {
      const a = listeners[i]!;
      const b = listeners[j]!;
      if (a.port !== 0 && a.port === b.port && a.host === b.host) {
        return `error: ${a.flag} and ${b.flag} are both ${a.port} on ${a.host}: give each listener a port of its own`;
      }
    }
  }
  return undefined;
}
