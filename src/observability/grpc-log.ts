/**
 * gRPC's own log lines in infergate's log. grpc-js writes them to stderr itself (`E No address added out of
 * total 1 resolved` before a port-in-use error), outside `--log-format json` and `--log-level`; routed here,
 * every line of a run follows the log's format.
 */
import { setLogger } from '@grpc/grpc-js';
import { format } from 'node:util';
import type { Logger } from '../logger.js';

/** Sends grpc-js's log (process-wide: it has one logger) to `log`, at the same level, prefixed `grpc: `. */
export function routeGrpcLogs(log: Logger): void {
  const to = (write: (msg: string) => void) => (message?: unknown, ...rest: unknown[]): void => write(`grpc: ${format(message, ...rest)}`);
  setLogger({ error: to((m) => log.error(m)), info: to((m) => log.info(m)), debug: to((m) => log.debug(m)) });
}
