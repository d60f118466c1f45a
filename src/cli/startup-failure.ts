/**
 * How a command that could not start says so: one line on stderr, in the log's format (`--log-format json`
 * gives a JSON line, so a log pipeline sees why the process stopped), then the exit status.
 */
import type { AddressInfo } from 'node:net';
import { fatalLine, type LogFormat } from '../logger.js';

/** The format of this process's log, once `--log-format` is read (loggerOrExit); text before that. */
let logFormat: LogFormat = 'text';

/** Startup failures from now on are written in `format`. */
export function setStartupLogFormat(format: LogFormat): void {
  logFormat = format;
}

/** Prints `message` (`error: ...`) as the last line of a process that could not start, and exits with `code`. */
export function exitStartup(message: string, code: number): never {
  console.error(fatalLine(logFormat, message));
  process.exit(code);
}

/**
 * `listen()`, its failure restated with the flags that chose the address: Node's own text (`listen EADDRINUSE:
 * address already in use 127.0.0.1:8080`, `getaddrinfo ENOTFOUND x`) names neither the flag nor the way out.
 */
export async function listenNamed(listen: () => Promise<AddressInfo>, what: string, flags: string, host: string, port: number): Promise<AddressInfo> {
  try {
    return await listen();
  } catch (e) {
    throw new Error(`${what} cannot listen on ${host}:${port} (${flags}): ${listenReason(e as NodeJS.ErrnoException)}`);
  }
}

function listenReason(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'EADDRINUSE':
      return 'the port is in use by another process (or by this one: give --port and --admin-port different ports)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve; give an IP address of this machine (0.0.0.0 for every one) or a name that resolves';
    case 'EADDRNOTAVAIL':
      return 'no network interface of this machine has that address; give one it has (0.0.0.0 for every one)';
    case 'EACCES':
      return 'permission denied: ports below 1024 need privileges; give a port from 1024';
    default:
      return e.message;
  }
}

/**
 * A `-f` path that does not exist, said the same way by every command that reads one (Node's own text,
 * `ENOENT: no such file or directory, stat 'x'`, names neither the flag nor what it was for); other errors as they are.
 */
export function missingConfigPathNamed(e: unknown, configPath: string | undefined): unknown {
  const err = e as NodeJS.ErrnoException;
  return configPath !== undefined && err?.code === 'ENOENT' && err.path === configPath ? new Error(`cannot read -f ${configPath}: no such file or directory`) : e;
}
